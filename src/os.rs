//! What differs between OS families (EL7 yum, EL8/9 dnf, Debian/Ubuntu apt; systemd or SysV).
