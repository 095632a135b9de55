//! One module per subcommand.

pub mod catalog;
pub mod check;
pub mod test;
pub mod validate;
