//! `cloverlift schema`: the JSON Schema of the spec format, for editors.

use super::{Io, exit};

/// Prints the checked-in schema, which the crate's tests keep equal to the one the model
/// types generate (`spec::schema`).
pub fn run(io: &mut Io) -> u8 {
    match io.out.write_all(crate::spec::schema::TEXT.as_bytes()) {
        Ok(()) => exit::OK,
        Err(_) => exit::USAGE,
    }
}
