# Sourced by the scripts that need a component from Debian's packages.

# install_from_debian SCRIPT PACKAGE: installs PACKAGE with apt-get (as root), saying so on
# standard error in SCRIPT's name; exits when it cannot.
install_from_debian() {
  local script=$1 package=$2
  echo "$script: $package not found; installing it from Debian's packages" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "$script: installing $package needs root (apt-get install $package)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$package" >/dev/null
}
