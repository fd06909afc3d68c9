//! What differs between server flavors and versions (MySQL 5.7/8.0/8.4/9.x, MariaDB).
