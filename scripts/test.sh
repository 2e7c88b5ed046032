#!/usr/bin/env bash
# Set up everything the tests need and run them: system tools (ffmpeg, espeak-ng, chromium, postgresql,
# openssh-server, fonts-noto-cjk, nodejs) from apt
# when missing, a virtualenv with the package and its test extras, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v chromium >/dev/null || need+=(chromium)          # the search page's browser test
command -v chromedriver >/dev/null || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # the tests start their own server
[ -x /usr/sbin/sshd ] || need+=(openssh-server)                             # publish over SFTP, to a test sshd
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need+=(fonts-noto-cjk)  # captions
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)  # podcast-partytime's feed checks
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,ray]"
# The ".[openai-whisper]" extra without its triton dependency (GPU kernels only, about 1 GB): the
# CPU build of torch first (else pip takes a multi-GB CUDA build), then openai-whisper --no-deps.
.venv/bin/python -m pip install -q torch==2.13.0 tiktoken numba more-itertools tqdm
.venv/bin/python -m pip install -q --no-deps openai-whisper
# The voice encoder's weights for speaker turns (run in numpy): the wheel alone, not its torch/librosa deps.
.venv/bin/python -m pip install -q --no-deps Resemblyzer==0.1.4
# podcast-partytime, the Podcasting 2.0 parser the feed tests run with node.
(cd tests/js && npm install --silent --no-audit --no-fund >/dev/null)
exec .venv/bin/python -m pytest "$@"
