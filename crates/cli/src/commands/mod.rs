//! One module per subcommand.

pub mod catalog;
pub mod check;
pub mod serve;
pub mod test;
pub mod token;
pub mod validate;
