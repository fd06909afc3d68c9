//! Rendering my.cnf, keepalived.conf and the health-check script from the embedded templates.
