#!/usr/bin/env bash
# Installs everything hydra needs on Debian 12 and creates the unprivileged 'hydra' user
# that runs the private PostgreSQL cluster. Idempotent: safe to run again and again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: run as root (apt-get needs it)" >&2; exit 1; }
  SUDO=sudo
fi

packages=(
  build-essential g++ clang clang-tidy clang-format lld cmake ninja-build pkg-config ccache git
  libpqxx-dev libpq-dev postgresql-15 postgresql-client-15
  libssl-dev nlohmann-json3-dev libcpp-httplib-dev libzstd-dev libbz2-dev libfmt-dev libargon2-dev
  libsqlite3-dev liblzma-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  nix-bin openssh-server openssh-client iproute2 util-linux procps gdb
  python3 python3-aiosmtpd bzip2 zstd
  # The shell builds run in Nix's sandbox (no /bin/sh there): the example's and the tests'.
  busybox-static
  # The browser tests drive headless Chromium through chromedriver; the font gives screenshots glyphs.
  chromium chromium-driver fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # Debian's postgresql package would start a system cluster; hydra runs its own.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The private PostgreSQL cluster refuses to run as root; it runs as this system user.
if ! getent passwd hydra >/dev/null; then
  $SUDO useradd --system --user-group --home-dir /var/lib/hydra --shell /usr/sbin/nologin hydra
fi

# Nix builds as root only through the build users of 'build-users-group' (default nixbld);
# Debian's nix-bin does not create them, and without them every local build fails.
if ! getent group nixbld >/dev/null; then
  $SUDO groupadd --system nixbld
fi
for i in $(seq 1 16); do
  if ! getent passwd "nixbld$i" >/dev/null; then
    $SUDO useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin \
      --gid nixbld --groups nixbld --comment "Nix build user $i" "nixbld$i"
  fi
done

# Nix's configuration directory; build-host test fixtures bind-mount their own over it.
$SUDO mkdir -p /etc/nix

# sshd (used by build-host test fixtures) wants its privilege-separation directory.
$SUDO mkdir -p /run/sshd
echo "setup.sh: ready"
