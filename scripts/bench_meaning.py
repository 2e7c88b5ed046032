"""Benchmark: how well the gates of meaning search tell questions from off-topic ones, on episodes
the tests do not hold: four held-out episodes written for this (maternity benefits, rural pensions,
disability allowance, platform work), each with its translation, and the built sample show where
there is one. Compares the margins by query language (`semantic.FLOOR_MARGIN`, now) with the one
margin of 0.05 for both (the baseline, before) in one run.

    python scripts/bench_meaning.py [--show .]

For each query the best row's cosine less its nearest off-topic anchor's, by language: the highest
of the off-topic questions (202 in both languages: cooking, sport, travel, shopping, pets, money,
..., and gibberish) and the lowest of the questions that mean what was said (55, across languages
too); then,
through `hybrid.search`, the off-topic questions that got a hit and the questions whose top hit is
their episode, with each margin.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from media_tool.search import Row, SQLiteIndex, hybrid, semantic  # noqa: E402

EPISODES = {'ep-101-maternity': ('en',
                      'Maternity benefits for informal workers',
                      [('Welcome back to the show.', '欢迎回到节目。'),
                       ('Today we talk about maternity benefits for women who work in the informal economy.',
                        '今天我们来谈谈在非正规经济中工作的妇女的生育福利。'),
                       ('A woman selling vegetables at a market has no employer to pay her while she is away after '
                        'childbirth.',
                        '一位在市场卖菜的妇女，分娩后休息期间没有雇主给她发工资。'),
                       ('In Kenya, the new scheme pays mothers a cash benefit for fourteen weeks.',
                        '在肯尼亚，新计划向母亲发放为期十四周的现金补助。'),
                       ('The payment is meant to replace the income she loses during pregnancy and after the birth.',
                        '这笔钱是为了弥补她在怀孕期间和分娩后失去的收入。'),
                       ('Many mothers also need free antenatal checkups at the clinic.', '许多母亲还需要在诊所接受免费的产前检查。'),
                       ('Breastfeeding breaks at work are part of the same convention.', '工作期间的哺乳时间也是同一公约的一部分。'),
                       ('Fathers can now take two weeks of paid paternity leave.', '父亲现在可以享受两周带薪陪产假。'),
                       ('Thank you.', '谢谢。')]),
 'ep-102-rural-pension': ('zh',
                          '农村养老保险改革',
                          [('大家好，欢迎收听本期节目。', 'Hello everyone, welcome to this episode.'),
                           ('今天我们聊一聊农村居民的养老保险。', 'Today we talk about old-age insurance for rural residents.'),
                           ('很多农民年轻时在城里打工，老了回到村里。',
                            'Many farmers work in cities when young and return to the village when old.'),
                           ('他们每个月能领到的基础养老金只有一两百块钱。',
                            'The basic pension they receive each month is only one or two hundred yuan.'),
                           ('政府给参保的农民每年缴费补贴。',
                            'The government gives insured farmers an annual contribution subsidy.'),
                           ('缴费年限越长，个人账户里的钱就越多。',
                            'The longer the contribution period, the more money in the personal account.'),
                           ('好的，谢谢。', 'OK, thank you.')]),
 'ep-103-disability': ('en',
                       'Disability allowance and assessment',
                       [('Our guest today designs disability assessment systems.', '我们今天的嘉宾设计残疾评估系统。'),
                        ('A person who uses a wheelchair may still be able to work, but faces extra costs every '
                         'month.',
                         '使用轮椅的人可能仍然能够工作，但每个月都要面对额外的开支。'),
                        ('The allowance covers things like transport, assistive devices and personal assistance.',
                         '这项津贴用于支付交通、辅助器具和个人协助等费用。'),
                        ('Assessments used to be purely medical, a doctor deciding the percentage of impairment.',
                         '过去的评估完全是医学性的，由医生决定损伤的百分比。'),
                        ('Now the assessment looks at how a person functions in daily life.',
                         '现在的评估关注一个人在日常生活中的功能状况。'),
                        ('Right.', '对。')]),
 'ep-104-gig': ('zh',
                '平台劳动者的失业保障',
                [('外卖骑手和网约车司机越来越多。', 'There are more and more food delivery riders and ride-hailing drivers.'),
                 ('他们跟平台之间往往没有正式的劳动合同。', 'They often have no formal labour contract with the platforms.'),
                 ('一旦被平台停掉账号，他们就突然没有了收入。', 'Once the platform suspends their account, they suddenly have no income.'),
                 ('有些城市开始试点职业伤害保障，骑手在送餐路上受伤可以得到赔偿。',
                  'Some cities are piloting occupational injury protection: riders injured while delivering can be '
                  'compensated.'),
                 ('但是失业保险还很难覆盖这些灵活就业人员。',
                  'But unemployment insurance still hardly covers these flexibly employed workers.')])}

OFF_TOPIC = ['how to bake sourdough bread', 'cheap flights to paris', 'best running shoes 2026', 'the lord of the rings',
 'python list comprehension', 'how tall is mount everest', 'funny cat videos', 'guitar chords for beginners',
 'nba finals score', 'what time is it', 'jazz music', 'electric car battery range', 'knitting a scarf', '北京烤鸭怎么做',
 '周末去哪里玩', '最新电影排行榜', '怎么学吉他', '猫咪为什么爱睡觉', '足球比赛结果', '如何减肥', '手机充电很慢', '今晚吃什么', '股票涨了', '唱歌技巧', '旅游攻略', '火锅店推荐',
 '数学作业', '下雨了', 'zzzz', 'bzzt', 'pfft', 'grrr', 'qqqq', 'ffff', 'jkjkjk', 'mnbvc', 'hjkl', 'xyzzy', 'plugh',
 'frobnicate', 'asdf1234', '...', '???', '#$%^', '😀', '??!!', 'ー', 'a b c d', '1 2 3', 'Mmmhmm', 'ahem',
 'yadda yadda', 'how do i make pancakes', 'best pizza toppings', 'chicken curry recipe', 'vegan chocolate cake',
 'how long to boil an egg', 'who won the world cup', 'basketball playoffs tonight', 'tennis grand slam winners',
 'marathon training plan', 'yoga for beginners', 'new smartphone release date', 'laptop battery life',
 'how to install windows', 'wifi password reset', 'best gaming console', 'cheap hotels in tokyo', 'visa for thailand',
 'beach holidays in spain', 'train tickets to london', 'camping gear list', 'top movies this year',
 'netflix series recommendations', 'taylor swift concert', 'funny memes', 'video game walkthrough',
 'will it snow tomorrow', 'hurricane season forecast', 'sunrise time today', 'air quality index',
 'rainy weather clothing', 'black friday deals', 'buy running shoes online', 'discount codes',
 'furniture store near me', 'second hand car prices', 'homework help algebra', 'learn french quickly',
 'university rankings', 'essay writing tips', 'chemistry experiments', 'dog training tips', 'why do cats purr',
 'aquarium fish care', 'bird watching guide', 'how to adopt a puppy', 'electric car charging', 'change a flat tire',
 'motorcycle helmets', 'car insurance quote', 'traffic jam today', 'bitcoin price', 'stock market crash',
 'how to invest in gold', 'crypto wallet', 'forex trading strategy', 'how to lose weight fast',
 'muscle building diet', 'best sleeping position', 'headache remedies', 'skin care routine', 'piano lessons online',
 'how to write a song', 'rock music history', 'guitar amplifier', 'karaoke songs', 'garden vegetables in spring',
 'how to grow tomatoes', 'lawn mower repair', 'indoor plants care', 'compost bin', 'wedding dress ideas',
 'birthday party games', 'christmas gift ideas', 'halloween costumes', 'baby shower themes', '红烧肉的做法', '饺子怎么包', '蛋炒饭',
 '火锅底料推荐', '奶茶店加盟', '世界杯冠军', '篮球比赛直播', '乒乓球技巧', '跑步减肥', '健身房办卡', '新手机发布会', '电脑蓝屏怎么办', '无线网络连接不上', '游戏机推荐', '手机壳',
 '去日本旅游签证', '三亚酒店', '高铁票怎么买', '露营装备', '春节出游', '最近好看的电影', '电视剧推荐', '演唱会门票', '搞笑视频', '动漫排行', '明天会下雪吗', '台风路径', '今天日出时间',
 '空气质量', '雨天穿什么', '双十一优惠', '网购跑鞋', '优惠券', '家具店', '二手车价格', '数学作业答案', '快速学英语', '大学排名', '作文技巧', '化学实验', '狗狗训练', '猫为什么呼噜',
 '养金鱼', '观鸟', '领养小狗', '电动车充电', '补轮胎', '摩托车头盔', '堵车', '汽车保养', '比特币价格', '股市大跌', '黄金投资', '炒股技巧', '外汇交易', '快速减肥', '增肌饮食',
 '睡眠姿势', '头疼怎么办', '护肤步骤', '钢琴入门', '怎么写歌', '摇滚乐历史', '吉他音箱', '卡拉OK', '春天种菜', '种西红柿', '割草机修理', '室内绿植', '堆肥', '婚纱款式',
 '生日派对游戏', '圣诞礼物', '万圣节服装', '宝宝派对']

ON_TOPIC_HERE = [('生孩子以后妈妈没有工资怎么办', 'ep-101'), ('怀孕的女人能拿到什么补助', 'ep-101'), ('爸爸的育儿假', 'ep-101'), ('坐轮椅的人的额外花费', 'ep-103'),
 ('残障人士的评估方法', 'ep-103'), ('money for old farmers in the countryside', 'ep-102'), ('pensions in villages', 'ep-102'),
 ('delivery drivers who lose their account', 'ep-104'), ('injury insurance for couriers', 'ep-104'),
 ('income support for new mothers', 'ep-101'), ('how disability is assessed', 'ep-103'), ('产假', 'ep-101'),
 ('外卖小哥受伤了谁来赔', 'ep-104'), ('cash for women after childbirth', 'ep-101'),
 ('market traders who have a baby', 'ep-101'), ('checkups during pregnancy', 'ep-101'),
 ('time off for new fathers', 'ep-101'), ('breastfeeding at work', 'ep-101'),
 ('basic pension for villagers', 'ep-102'), ("government subsidy for farmers' contributions", 'ep-102'),
 ('extra costs of living with a disability', 'ep-103'), ('wheelchair users at work', 'ep-103'),
 ('medical assessment of impairment', 'ep-103'), ('ride hailing drivers without contracts', 'ep-104'),
 ('unemployment insurance for flexible workers', 'ep-104'), ('妇女分娩后的补助', 'ep-101'), ('产前检查免费', 'ep-101'),
 ('哺乳时间', 'ep-101'), ('农民的基础养老金', 'ep-102'), ('个人账户缴费年限', 'ep-102'), ('残疾津贴', 'ep-103'), ('轮椅使用者', 'ep-103'),
 ('网约车司机没有劳动合同', 'ep-104'), ('灵活就业人员的失业保险', 'ep-104'), ('骑手送餐受伤', 'ep-104')]

ON_TOPIC_SAMPLE = [('a pension everyone gets', 'ep-001'), ('retirement money paid from taxes', 'ep-001'),
 ('who is covered by pensions', 'ep-001'), ('pensions you pay into while working', 'ep-001'),
 ('getting paid while sick', 'ep-002'), ('rest when you are ill without losing wages', 'ep-002'),
 ('monthly contributions for old age', 'ep-002'), ('nursing homes and home care', 'ep-003'),
 ('who pays when the elderly need help every day', 'ep-003'), ('pilot cities for care insurance', 'ep-003'),
 ('families looking after elderly relatives', 'ep-003'), ('人人都能领的养老金', 'ep-001'), ('税收支付的养老金', 'ep-001'),
 ('生病的时候工资照发', 'ep-002'), ('退休以后每月领钱', 'ep-002'), ('老人需要每天有人照顾', 'ep-003'), ('护理中心', 'ep-003'), ('试点城市的经验', 'ep-003'),
 ('缴费型养老金', 'ep-001'), ('病假期间的收入', 'ep-002')]


def held_out(folder: Path) -> SQLiteIndex:
    """The four episodes, each line with its translation beside it (marked as a machine's)."""
    ix = SQLiteIndex(folder / "search.sqlite3")
    for n, (slug, (lang, title, lines)) in enumerate(EPISODES.items()):
        rows = [Row(slug, lang, 0.0, 0.0, title, kind="title")]
        for i, (said, translated) in enumerate(lines):
            rows += [Row(slug, lang, i * 5.0, i * 5.0 + 4, said),
                     Row(slug, "zh" if lang == "en" else "en", i * 5.0, i * 5.0 + 4, translated, via="local:bench")]
        vectors = semantic.to_int8(semantic.embed_passages([r.text for r in rows]))
        ix.replace_episode(slug, title, f"2026-11-{10 + n}", "u", slug, rows, [v.tobytes() for v in vectors])
    return ix


def language(query: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", query) else "en"


@functools.lru_cache(maxsize=None)
def vectors(ix: SQLiteIndex) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """An index's (slug, text) rows, their vectors and each row's mean cosine to the anchors: once."""
    rows = ix.db.execute("SELECT slug, text, vec FROM segments WHERE vec IS NOT NULL").fetchall()
    m = np.vstack([semantic.from_int8(blob) for _, _, blob in rows])
    return [(s, t) for s, t, _ in rows], m, (m @ hybrid.anchors(ix).T).mean(axis=1)


def above_anchors(ix: SQLiteIndex, query: str, slug: str | None) -> float | None:
    """The best row's cosine (of `slug`'s, if given) less the nearest anchor's, among the rows that
    pass the other gates; None where the query asks nothing of meaning or no row passes."""
    if not semantic.meaningful(query):
        return None
    v, off = semantic.embed_query(query), hybrid.anchors(ix)
    rows, m, to_anchors = vectors(ix)
    cos = m @ v
    spread = cos - to_anchors
    best = [float(cos[n]) for n, (s, text) in enumerate(rows)
            if spread[n] >= semantic.MARGIN and semantic.meaningful(text) and (slug is None or s.startswith(slug))]
    return max(best) - float((off @ v).max()) if best else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", type=Path, default=ROOT, help="a built show whose index is the second corpus")
    args = ap.parse_args()
    if semantic.unavailable():
        print(semantic.unavailable())
        return 1
    tmp = Path(tempfile.mkdtemp())
    corpora = [("held-out", held_out(tmp / "held-out"), ON_TOPIC_HERE)]
    built = args.show / ".media-tool" / "search.sqlite3"
    if built.is_file():
        (tmp / "sample").mkdir()
        for f in built.parent.glob("search.sqlite3*"):
            shutil.copy(f, tmp / "sample")
        corpora.append(("sample show", SQLiteIndex(tmp / "sample" / "search.sqlite3"), ON_TOPIC_SAMPLE))
    else:
        print(f"no built show at {args.show} (run `media-tool build` there): the held-out episodes only")
    gaps: dict[str, dict[str, list]] = {lg: {"off": [], "on": []} for lg in ("en", "zh")}
    for name, ix, on_topic in corpora:
        for q in OFF_TOPIC:
            if (d := above_anchors(ix, q, None)) is not None:
                gaps[language(q)]["off"].append((d, q, name))
        for q, slug in on_topic:
            if (d := above_anchors(ix, q, slug)) is not None:
                gaps[language(q)]["on"].append((d, q, name))
    for lg, g in gaps.items():
        off, on = sorted(set(g["off"]), reverse=True)[:3], min(g["on"])
        print(f"{lg}: off-topic highest " + ", ".join(f"{d:.3f} ({q!r}, {name})" for d, q, name in off) +
              f"; on-topic at least {on[0]:.3f} ({on[1]!r}); margin now {semantic.FLOOR_MARGIN[lg]}")
    results = {}
    for label, margins in (("one margin 0.05 (before)", {"en": 0.05, "zh": 0.05}), ("by language (now)", None)):
        saved = dict(semantic.FLOOR_MARGIN)
        if margins:
            semantic.FLOOR_MARGIN.update(margins)
        hits = top = asked = 0
        for name, ix, on_topic in corpora:
            hits += sum(bool(hybrid.search(ix, q)[0]) for q in OFF_TOPIC)
            for q, slug in on_topic:
                found = hybrid.search(ix, q)[0]
                top += bool(found) and found[0].slug.startswith(slug)
                asked += 1
        semantic.FLOOR_MARGIN.clear()
        semantic.FLOOR_MARGIN.update(saved)
        results[label] = (hits, top)
        print(f"{label}: off-topic questions with a hit {hits} of {len(OFF_TOPIC) * len(corpora)}; "
              f"top hit their episode {top} of {asked}")
    (b_hits, b_top), (n_hits, n_top) = results.values()
    print(f"ratios now / before: off-topic hits x{n_hits / max(b_hits, 1):.2f} (lower is better), "
          f"top hits x{n_top / max(b_top, 1):.2f} (higher is better)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
