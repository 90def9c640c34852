#!/usr/bin/env bash
# Installs the S3 clients of the end-to-end client matrix
# (cmd/mizuchi/clients_test.go) from Debian, pinned to the versions of
# Debian 12 (bookworm):
#
#   awscli 2.9 (/usr/bin/aws), python3-boto3 1.26 (for /usr/bin/python3),
#   s3cmd 2.3.0, rclone 1.60
#
# A package already installed at its pinned version is left alone; when
# everything is present the script does nothing (no network). Otherwise it runs
# `apt-get update` once and installs the missing packages at their pinned
# versions. It needs root (CI runs as root; elsewhere it uses sudo if there is
# one). MIZUCHI_SKIP_CLIENTS=1 skips it (the tests then skip missing clients).
# The Python clients of pyenv (boto3 1.43, AWS CLI 1.45) and curl are not
# installed here. Progress goes to stderr.
set -euo pipefail

if [[ -n "${MIZUCHI_SKIP_CLIENTS:-}" ]]; then
	exit 0
fi

# package=version, exactly as `apt-cache policy` shows it on bookworm.
pins=(
	"awscli=${AWSCLI_DEB_VERSION:-2.9.19-1}"
	"python3-boto3=${BOTO3_DEB_VERSION:-1.26.27+dfsg-1}"
	"s3cmd=${S3CMD_DEB_VERSION:-2.3.0-1}"
	"rclone=${RCLONE_DEB_VERSION:-1.60.1+dfsg-2+b5}"
)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	echo "install-clients: not a Debian system (no dpkg/apt-get); the client tests skip what is missing" >&2
	exit 0
fi

missing=()
for pin in "${pins[@]}"; do
	pkg="${pin%%=*}" want="${pin#*=}"
	have="$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$pkg" 2>/dev/null || true)"
	if [[ "$have" == "installed $want" ]]; then
		continue
	fi
	missing+=("$pin")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null; then
		echo "install-clients: need root to install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-clients: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
