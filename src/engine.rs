//! Facts → operations → engine: each operation plans `Noop(reason)` or `Change`,
//! the engine applies changes and re-plans, treating anything but Noop as a bug.
