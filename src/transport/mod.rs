//! Running commands on a node: the [`Transport`] trait, the SSH implementation and a
//! fake that records commands for unit tests.
