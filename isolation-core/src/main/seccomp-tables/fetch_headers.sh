#!/bin/sh
# fetch_headers.sh SUITE VERSION DEST
#
# Downloads linux-libc-dev VERSION from SUITE (e.g. trixie-backports) of the Debian mirror this machine's apt
# already uses (or of $MIRROR), with apt, which checks it against the suite's signed Release file, and unpacks it
# into DEST with dpkg-deb -x: the headers are then in DEST/usr/include, for generate_tables.py --include.
# apt runs on a private state in a temporary directory: the machine's apt sources, lists and packages are left
# as they are. Needs apt, dpkg-deb and the Debian archive keyring (all on any Debian machine).
set -eu
if [ $# -ne 3 ]; then
  echo "usage: $0 SUITE VERSION DEST   (e.g. $0 trixie-backports 7.3.4-1~bpo13+1 /tmp/linux-libc-dev)" >&2
  exit 2
fi
suite=$1
version=$2
dest=$3
mirror=${MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 'Label: Debian' | head -n 1)}
if [ -z "$mirror" ]; then
  echo "$0: no Debian mirror in this machine's apt lists: run apt-get update, or name one with MIRROR=" >&2
  exit 2
fi

work=$(mktemp -d /tmp/fetch-linux-libc-dev.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/sources.list.d" "$work/preferences.d"
: > "$work/status"
echo "deb $mirror $suite main" > "$work/sources.list"
cat > "$work/apt.conf" <<EOF
Dir::State::Lists "$work/lists";
Dir::State::status "$work/status";
Dir::Cache "$work";
Dir::Etc::SourceList "$work/sources.list";
Dir::Etc::SourceParts "$work/sources.list.d";
Dir::Etc::Preferences "$work/preferences";
Dir::Etc::PreferencesParts "$work/preferences.d";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
APT_CONFIG="$work/apt.conf" apt-get -q -q update
(cd "$work" && APT_CONFIG="$work/apt.conf" apt-get -q -q download "linux-libc-dev=$version")
deb=$(ls "$work"/linux-libc-dev_*.deb)
sha256sum "$deb" | sed "s|$work/||"
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
echo "linux-libc-dev $version unpacked: the headers are in $dest/usr/include"
