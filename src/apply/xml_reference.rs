//! XML references as text. quick-xml reports `&amp;` and `&#38;` apart from the text around
//! them (`Event::GeneralRef`); every reader here that keeps text resolves them the same way.

use quick_xml::events::BytesRef;

/// The character a reference stands for: a character reference, or one of XML's five
/// predefined entities. Any other entity is an error (these documents declare none).
pub fn resolve(reference: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = reference.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c.to_string());
    }
    let name = reference.decode().map_err(|e| e.to_string())?;
    quick_xml::escape::resolve_xml_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("unknown entity &{name};"))
}
