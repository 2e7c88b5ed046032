"""Benchmark: the offline translator (Qwen2.5-Coder-1.5B-Instruct on CTranslate2 int8).

    python scripts/bench_translate.py [--minutes 5] [--skip-speed] [--skip-quality]

1. Speed: tokens/s and segments/s per direction and batch size (1, 4, 8, 16), the model loaded once.
2. Realtime factor of `media-tool transcribe` plus translation (English to Chinese, the default
   local translator) on N minutes of espeak-ng English, as whole processes, against the same command
   with `--translator none`; peak memory of each.
3. Quality on text written for this benchmark and never used for tuning: English read by espeak-ng,
   transcribed by Whisper base, translated into Chinese, scored by BLEU (sacrebleu, zh tokenizer)
   against a reference written by hand, with a glossary of its own (the share of the places a term
   belongs where the glossary's rendering stands); and the held-out Mandarin fixture
   (mandarin-long.opus, 115 s) as Whisper base hears it, translated into English, scored by chrF
   against a reference written by hand. Targets: BLEU >= 28, terms >= 90 %, chrF >= 55.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

HELD_OUT_EN = [
    "Welcome back to our series on social protection in Asia.",
    "Today we look at maternity insurance and how it protects working mothers.",
    "In many countries, maternity insurance pays a maternity allowance during maternity leave.",
    "The allowance usually replaces most of the previous wage.",
    "Self-employed women are often left out of these schemes.",
    "Some provinces now let people in flexible employment join the scheme voluntarily.",
    "Employers worry that higher contributions will raise labour costs.",
    "Our guest argues that the state should subsidise contributions for low-income workers.",
    "She also recommends merging maternity insurance with medical insurance.",
    "This lowers administrative costs and makes reimbursement simpler.",
    "Thank you for listening, and see you next time.",
]
HELD_OUT_ZH_REFERENCE = [
    "欢迎回到我们关于亚洲社会保障的系列节目。",
    "今天我们来看看生育保险，以及它如何保护职场妈妈。",
    "在许多国家，生育保险在产假期间支付生育津贴。",
    "这笔津贴通常能替代此前工资的大部分。",
    "自雇女性往往被排除在这些制度之外。",
    "一些省份现在允许灵活就业人员自愿参加这一制度。",
    "用人单位担心更高的缴费会提高用工成本。",
    "我们的嘉宾认为，国家应当为低收入劳动者补贴缴费。",
    "她还建议将生育保险与医疗保险合并。",
    "这样可以降低管理成本，让报销更简单。",
    "感谢收听，我们下次再见。",
]
HELD_OUT_GLOSSARY = """zh,en
生育保险,maternity insurance
生育津贴,maternity allowance
产假,maternity leave
灵活就业,flexible employment
缴费,contribution
用工成本,labour costs
低收入,low-income
医疗保险,medical insurance
报销,reimbursement
"""
MANDARIN_LONG_EN_REFERENCE = [
    "Hello, dear listeners, and welcome to today's programme.",
    "Today we have invited an expert who studies social protection.",
    "First, please introduce the pension insurance system for rural residents.",
    "The system consists of individual contributions, collective subsidies and government subsidies.",
    "Many young people go away to work, and only the elderly and children are left at home.",
    "What worries them most is that medical care is expensive and hard to get.",
    "Medical insurance for urban and rural residents already covers the great majority of the population.",
    "But out-of-pocket costs for serious illness are still a heavy burden.",
    "So we have set up serious illness insurance and a medical assistance system.",
    "Next, let us talk about food delivery riders in the platform economy.",
    "They have no fixed employer, and it is hard to establish an employment relationship.",
    "Some cities have launched pilots of occupational injury protection.",
    "A rider injured while delivering food can receive some compensation.",
    "The conventions of the International Labour Organization set clear minimum standards.",
    "For example, Convention No. 102 sets out nine branches of social security.",
    "Our social assistance system is also being steadily improved.",
    "The minimum living allowance standard is adjusted every year according to prices.",
    "People with disabilities can receive a living subsidy and a care subsidy.",
    "Population ageing puts pressure on the sustainability of pensions.",
    "The policy of delayed retirement is being introduced step by step.",
    "The basic pension for employees is pooled nationally.",
    "This balances the fund burden between different provinces.",
    "Maternity insurance and medical insurance are now implemented together.",
    "Female employees can receive a maternity allowance during maternity leave.",
    "Finally, please give our listeners a piece of advice.",
    "I suggest that everyone join the insurance as early as possible and contribute without a break.",
    "That way their benefits after retirement will be more secure.",
    "Thank you very much for giving us this interview today.",
    "And thank you to all our listeners for listening; see you next time.",
]


def espeak(lines: list[str], dest: Path) -> None:
    wav = dest.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-g", "8", "-w", str(wav), " ".join(lines)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "32k", str(dest)],
                   check=True)


def run_cli(audio: Path, out: Path, *extra: str) -> dict:
    """One whole `media-tool transcribe`, cold: a model cache of its own (the converted models linked in,
    no translations), so every line is translated and timed, never read from an earlier run."""
    import os
    import tempfile

    from media_tool.engines.models import user_cache

    cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    (cache / "models").symlink_to(user_cache() / "models")
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "media_tool", "transcribe", str(audio),
                          "-o", str(out), "--json", *extra], capture_output=True, text=True, check=True,
                         env={**os.environ, "MEDIA_TOOL_CACHE": str(cache)})
    d = json.loads(res.stdout)
    d["wall"] = time.perf_counter() - t0
    d["peak_mb"] = int(res.stderr.strip().splitlines()[-1]) / 1024
    return d


def bodies(path: Path) -> list[str]:
    return [s["body"] for s in json.loads(path.read_text())["segments"]]


def speed(model) -> None:
    from media_tool.engines.translation import segment_requests
    from media_tool.engines.translators import LocalTranslator
    from media_tool.model.glossary import load

    g = load(ROOT / "glossary.csv")
    en = [x for x in (ROOT / "tests/fixtures/english.txt").read_text().splitlines() if x.strip()] * 2
    zh = [x for x in (ROOT / "tests/fixtures/mandarin-long.txt").read_text().splitlines() if x.strip()][:16]
    print("direction  batch  segments  seconds  segments/s  tokens/s")
    for lang, texts, target in (("en", en, "zh"), ("zh", zh, "en")):
        for batch in (1, 4, 8, 16):
            tr = LocalTranslator(model, batch=batch)
            reqs = segment_requests(texts, lang, target, g)
            t0 = time.perf_counter()
            out = tr.translate_requests(reqs)
            s = time.perf_counter() - t0
            tokens = sum(len(model.tokens(x)) for x in out)
            print(f"{lang}->{target}     {batch:5d}  {len(reqs):8d}  {s:7.1f}  {len(reqs) / s:10.2f}  {tokens / s:8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args()
    import sacrebleu
    from bench_transcribe import script

    from media_tool.engines import llm
    from media_tool.engines.models import user_cache
    from media_tool.model.glossary import has_term, parse

    t0 = time.perf_counter()
    directory = llm.model_dir(user_cache())
    print(f"model ready in {time.perf_counter() - t0:.1f} s: {directory}")
    if not args.skip_speed:
        speed(llm.LocalModel(directory))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        long = tmp / "long.opus"
        espeak(script(args.minutes).split(". "), long)
        plain = run_cli(long, tmp / "plain", "--translator", "none")
        both = run_cli(long, tmp / "both")
        audio = both["audio_seconds"]
        print(f"\n{args.minutes:g} min of English: transcribe only {plain['wall']:.1f} s (peak {plain['peak_mb']:.0f} MB); "
              f"transcribe + translate into Chinese {both['wall']:.1f} s (peak {both['peak_mb']:.0f} MB): "
              f"realtime factor {both['wall'] / audio:.2f} (target <= 1, aim 0.33); "
              f"translation alone {both['wall'] - plain['wall']:.1f} s")
        if args.skip_quality:
            return
        clip = tmp / "heldout.opus"
        espeak(HELD_OUT_EN, clip)
        gfile = tmp / "glossary.csv"
        gfile.write_text(HELD_OUT_GLOSSARY)
        run_cli(clip, tmp / "q", "--glossary", str(gfile))
        zh = "".join(bodies(tmp / "q" / "heldout.zh.json"))
        bleu = sacrebleu.corpus_bleu([zh], [["".join(HELD_OUT_ZH_REFERENCE)]], tokenize="zh").score
        g = parse(HELD_OUT_GLOSSARY)
        en_heard = bodies(tmp / "q" / "heldout.en.json")
        wanted = [b for x in en_heard for _, b in g.required(x, "en")]
        zh_lines = bodies(tmp / "q" / "heldout.zh.json")
        hit = sum(1 for x, z in zip(en_heard, zh_lines) for _, b in g.required(x, "en") if has_term(z, b, "zh"))
        print(f"held-out English -> Chinese: BLEU {bleu:.1f} (target >= 28); glossary terms where they belong "
              f"{hit}/{len(wanted)} = {hit / max(1, len(wanted)):.0%} (target >= 90 %)")
        run_cli(ROOT / "tests/fixtures/mandarin-long.opus", tmp / "m", "--glossary", str(ROOT / "glossary.csv"))
        en = " ".join(bodies(tmp / "m" / "mandarin-long.en.json"))
        chrf = sacrebleu.corpus_chrf([en], [[" ".join(MANDARIN_LONG_EN_REFERENCE)]]).score
        print(f"held-out Mandarin (as Whisper base hears it) -> English: chrF {chrf:.1f} (target >= 55)")
        whisper = run_cli(ROOT / "tests/fixtures/mandarin-long.opus", tmp / "w", "--translator", "whisper")
        wen = " ".join(bodies(tmp / "w" / "mandarin-long.en.json")) if (tmp / "w" / "mandarin-long.en.json").exists() else ""
        print(f"  the same by Whisper's translate task: chrF {sacrebleu.corpus_chrf([wen], [[' '.join(MANDARIN_LONG_EN_REFERENCE)]]).score:.1f}"
              f" ({whisper['wall']:.1f} s)")


if __name__ == "__main__":
    main()
