//! Azure identifier syntax.
//!
//! Source: "Naming rules and restrictions for Azure resources" (Azure Resource Manager docs):
//! resource groups 1–90 of letters, digits, `_ ( ) - .`, not ending in `.`; Linux VM names
//! 1–64; managed disks, snapshots and public IPs 1–80 of letters, digits, `_ . -`, starting
//! with a letter or digit and ending with a letter, digit or `_`; PostgreSQL flexible servers
//! 3–63 of lowercase letters, digits and hyphens, not starting or ending with a hyphen.

use super::{Check, len_between, one_of, problem};

pub fn subscription(v: &str) -> Check {
    if !is_guid(v) {
        return problem(
            "a subscription id is a GUID",
            "e.g. `3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f` (`az account show --query id`)",
        );
    }
    Ok(())
}

pub fn is_guid(v: &str) -> bool {
    let groups: Vec<&str> = v.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn resource_group(v: &str) -> Check {
    len_between(v, 1, 90, "resource group name")?;
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '(' | ')' | '-' | '.')))
    {
        return problem(
            format!("`{bad}` is not allowed"),
            "resource group names hold letters, digits, `_`, `(`, `)`, `-` and `.`",
        );
    }
    if v.ends_with('.') {
        return problem(
            "ends with `.`",
            "resource group names cannot end with a period",
        );
    }
    Ok(())
}

pub fn location(v: &str) -> Check {
    one_of(v, super::regions::azure::LOCATIONS, "Azure location")
}

/// Disks, snapshots, public IPs, NICs: 1–80, start alphanumeric, end alphanumeric or `_`.
fn network_style_name(v: &str, what: &str) -> Check {
    len_between(v, 1, 80, what)?;
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return problem(
            format!("`{bad}` is not allowed"),
            format!("a {what} holds letters, digits, `_`, `.` and `-`"),
        );
    }
    if !v.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return problem(
            "must start with a letter or digit",
            format!("rename the {what}"),
        );
    }
    if !v.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return problem(
            "must end with a letter, digit or `_`",
            format!("rename the {what}"),
        );
    }
    Ok(())
}

pub fn disk_name(v: &str) -> Check {
    network_style_name(v, "managed disk name")
}

pub fn public_ip_name(v: &str) -> Check {
    network_style_name(v, "public IP name")
}

/// A snapshot given by name (in the deployment's resource group) or by full resource id.
pub fn snapshot(v: &str) -> Check {
    if v.starts_with('/') {
        return resource_id_of_type(v, "Microsoft.Compute/snapshots");
    }
    network_style_name(v, "snapshot name")
}

pub fn vm_name(v: &str) -> Check {
    len_between(v, 1, 64, "Linux VM name")?;
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return problem(
            format!("`{bad}` is not allowed"),
            "VM names hold letters, digits, `_`, `.` and `-`",
        );
    }
    if v.starts_with('_') || v.ends_with(['.', '-']) {
        return problem(
            "cannot start with `_` or end with `.` or `-`",
            "rename the VM as Azure allows",
        );
    }
    Ok(())
}

pub fn postgres_server(v: &str) -> Check {
    len_between(v, 3, 63, "PostgreSQL flexible server name")?;
    let ok = v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if !ok {
        return problem(
            "lowercase letters, digits and inner hyphens only",
            "flexible server names are like `clover-pg`",
        );
    }
    Ok(())
}

/// `Standard_D4s_v5`, `Standard_B2ms`: a tier, `_`, then the size.
pub fn sku_name(v: &str, what: &str) -> Check {
    let ok = v.split_once('_').is_some_and(|(tier, size)| {
        matches!(tier, "Standard" | "Basic")
            && !size.is_empty()
            && size.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !ok {
        return problem(
            format!("not an Azure {what}"),
            "Azure sizes look like `Standard_D4s_v5`",
        );
    }
    Ok(())
}

pub fn vm_size(v: &str) -> Check {
    sku_name(v, "VM size")
}

pub fn postgres_sku(v: &str) -> Check {
    sku_name(v, "PostgreSQL SKU")
}

/// Linux admin user names: 1–64 characters, not one of the names Azure reserves.
pub fn admin_username(v: &str) -> Check {
    const RESERVED: &[&str] = &[
        "administrator",
        "admin",
        "user",
        "user1",
        "test",
        "user2",
        "test1",
        "user3",
        "admin1",
        "1",
        "123",
        "a",
        "actuser",
        "adm",
        "admin2",
        "aspnet",
        "backup",
        "console",
        "david",
        "guest",
        "john",
        "owner",
        "root",
        "server",
        "sql",
        "support",
        "support_388945a0",
        "sys",
        "test2",
        "test3",
        "user4",
        "user5",
    ];
    len_between(v, 1, 64, "admin user name")?;
    if RESERVED.contains(&v.to_ascii_lowercase().as_str()) {
        return problem(
            "Azure reserves this user name",
            "choose another admin user name, e.g. `cloveradmin`",
        );
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        || v.starts_with('-')
    {
        return problem(
            "not a valid Linux user name",
            "use letters, digits, `_`, `-` and `.`",
        );
    }
    Ok(())
}

/// Any ARM resource id: `/subscriptions/GUID/resourceGroups/RG/providers/NS/TYPE/NAME[/TYPE/NAME…]`.
pub fn resource_id(v: &str) -> Check {
    parse_resource_id(v).map(|_| ())
}

/// A resource id whose full type (namespace and type segments) is `expected`.
pub fn resource_id_of_type(v: &str, expected: &str) -> Check {
    let ty = parse_resource_id(v)?;
    if !ty.eq_ignore_ascii_case(expected) {
        return problem(
            format!("a {ty} id where a {expected} id is expected"),
            format!("give the id of a {expected} resource"),
        );
    }
    Ok(())
}

pub fn subnet_id(v: &str) -> Check {
    resource_id_of_type(v, "Microsoft.Network/virtualNetworks/subnets")
}

/// Returns the full resource type, e.g. `Microsoft.Network/virtualNetworks/subnets`.
fn parse_resource_id(v: &str) -> Result<String, super::Problem> {
    let shape = || super::Problem {
        reason: "not an Azure resource id".into(),
        help: "resource ids look like /subscriptions/GUID/resourceGroups/RG/providers/\
                   NAMESPACE/TYPE/NAME"
            .into(),
    };
    let segs: Vec<&str> = v.strip_prefix('/').ok_or_else(shape)?.split('/').collect();
    if segs.len() < 8 || segs.iter().any(|s| s.is_empty()) {
        return Err(shape());
    }
    if !segs[0].eq_ignore_ascii_case("subscriptions")
        || !segs[2].eq_ignore_ascii_case("resourceGroups")
        || !segs[4].eq_ignore_ascii_case("providers")
    {
        return Err(shape());
    }
    subscription(segs[1])?;
    resource_group(segs[3])?;
    resource_namespace(segs[5]).ok_or_else(shape)?;
    for pair in segs[6..].chunks(2) {
        let type_ok = pair[0].bytes().all(|b| b.is_ascii_alphanumeric());
        if !type_ok {
            return Err(shape());
        }
        if let Some(name) = pair.get(1) {
            resource_name(name)?;
        }
    }
    // After the namespace come TYPE/NAME pairs.
    let rest = &segs[6..];
    if !rest.len().is_multiple_of(2) {
        return Err(shape());
    }
    let mut ty = segs[5].to_owned();
    for pair in rest.chunks(2) {
        ty.push('/');
        ty.push_str(pair[0]);
    }
    Ok(ty)
}

/// `Microsoft.Network`: dot-separated words of letters and digits, each starting with a letter.
fn resource_namespace(v: &str) -> Option<()> {
    let word_ok = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_alphabetic())
            && w.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    (v.contains('.') && v.split('.').all(word_ok)).then_some(())
}

/// The name rules shared by the network and compute resources a spec refers to (virtual
/// networks, subnets, snapshots, disks, addresses): 1–80 letters, digits, `_`, `.` and `-`,
/// starting with a letter or digit.
fn resource_name(v: &str) -> Check {
    len_between(v, 1, 80, "resource name")?;
    let ok = v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        return problem(
            format!("`{}` is not a valid Azure resource name", v.escape_debug()),
            "names hold letters, digits, `_`, `.` and `-`, starting with a letter or digit; \
             copy the id from `az resource show --query id`",
        );
    }
    Ok(())
}

/// Marketplace image fields: publisher, offer and SKU are names; version is `latest` or dotted.
pub fn image_part(v: &str) -> Check {
    len_between(v, 1, 128, "image field")?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return problem(
            "not a marketplace image name",
            "copy publisher, offer, SKU and version from `az vm image list`",
        );
    }
    Ok(())
}

/// `https://VAULT.vault.azure.net/secrets/NAME[/VERSION]`; vault names are 3–24 letters,
/// digits and hyphens (Key Vault docs, "About keys, secrets and certificates").
pub fn key_vault_secret(v: &str) -> Check {
    let shape = || {
        problem(
            "not a Key Vault secret URL",
            "use `https://VAULT.vault.azure.net/secrets/NAME`",
        )
    };
    let Some(rest) = v.strip_prefix("https://") else {
        return shape();
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let (host, name) = match segs.as_slice() {
        [host, "secrets", name] | [host, "secrets", name, _] => (*host, *name),
        _ => return shape(),
    };
    let vault_ok = host.strip_suffix(".vault.azure.net").is_some_and(|vault| {
        (3..=24).contains(&vault.len())
            && vault.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let name_ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !vault_ok || !name_ok {
        return shape();
    }
    Ok(())
}

/// Tag names: up to 512 characters, none of `< > % & \\ ? /` (ARM docs, "Use tags").
pub fn tag_name(v: &str) -> Check {
    len_between(v, 1, 512, "tag name")?;
    if let Some(bad) = v.chars().find(|c| "<>%&\\?/".contains(*c)) {
        return problem(
            format!("`{bad}` is not allowed in a tag name"),
            "Azure tag names cannot hold < > % & \\ ? /",
        );
    }
    Ok(())
}

pub fn tag_value(v: &str) -> Check {
    len_between(v, 0, 256, "tag value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_are_parsed_by_type() {
        let subnet = "/subscriptions/3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f/resourceGroups/net/\
                      providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps";
        assert!(subnet_id(subnet).is_ok());
        assert!(snapshot(subnet).is_err());
        assert!(subnet_id("/subscriptions/x/resourceGroups/net").is_err());
        assert!(snapshot("clover-data-before-7").is_ok());
    }

    #[test]
    fn names_follow_the_naming_rules() {
        assert!(postgres_server("clover-pg").is_ok());
        assert!(postgres_server("Clover").is_err());
        assert!(vm_name("clover-vm").is_ok());
        assert!(vm_name("clover-vm-").is_err());
        assert!(resource_group("clover-prod").is_ok());
        assert!(resource_group("clover.").is_err());
        assert!(admin_username("root").is_err());
        assert!(vm_size("Standard_D4s_v5").is_ok());
        assert!(vm_size("D4s_v5").is_err());
    }
}
