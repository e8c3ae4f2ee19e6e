//! `cloverlift schema`: the JSON Schema of the spec format, for editors.

use super::{Io, exit};

pub fn run(io: &mut Io) -> u8 {
    match serde_json::to_string_pretty(&crate::spec::schema::schema()) {
        Ok(text) => match writeln!(io.out, "{text}") {
            Ok(()) => exit::OK,
            Err(_) => exit::USAGE,
        },
        Err(_) => exit::USAGE,
    }
}
