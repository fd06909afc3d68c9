//! `mhactl reinit` arguments (owned here, so that reinit does not depend on the command
//! line).

/// `mhactl reinit` arguments.
#[derive(Debug, clap::Args)]
pub struct ReinitArgs {
    /// The node to rebuild (its peer is the source of the data).
    pub node: String,
    /// Confirm that the node's data is replaced (the old data directory is kept aside);
    /// the same as --yes.
    #[arg(long)]
    pub yes_destroy_data: bool,
}
