//! AWS identifier syntax.
//!
//! Sources: EC2 resource IDs are a prefix, a hyphen and 8 (older) or 17 hex digits (EC2 User
//! Guide, "Resource IDs"); RDS DB instance and snapshot identifiers are 1–63 (snapshots 1–255)
//! letters, digits and hyphens, start with a letter, never end with a hyphen or hold two
//! consecutive hyphens (RDS API reference, `CreateDBInstance`/`CreateDBSnapshot`).

use super::{Check, is_lower_hex, len_between, one_of, problem};

/// An EC2-style id: `prefix-` then 8 or 17 lowercase hex digits.
pub fn resource_id(value: &str, prefix: &str, what: &str) -> Check {
    let Some(hex) = value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return problem(
            format!("a {what} starts with `{prefix}-`"),
            format!("use the {what} as the console shows it, e.g. `{prefix}-0123456789abcdef0`"),
        );
    };
    if !(hex.len() == 8 || hex.len() == 17) || !is_lower_hex(hex) {
        return problem(
            format!("`{prefix}-` must be followed by 8 or 17 lowercase hex digits"),
            format!("e.g. `{prefix}-0123456789abcdef0`"),
        );
    }
    Ok(())
}

pub fn instance_id(v: &str) -> Check {
    resource_id(v, "i", "EC2 instance id")
}
pub fn volume_id(v: &str) -> Check {
    resource_id(v, "vol", "EBS volume id")
}
pub fn snapshot_id(v: &str) -> Check {
    resource_id(v, "snap", "EBS snapshot id")
}
pub fn image_id(v: &str) -> Check {
    resource_id(v, "ami", "AMI id")
}
pub fn subnet_id(v: &str) -> Check {
    resource_id(v, "subnet", "subnet id")
}
pub fn security_group_id(v: &str) -> Check {
    resource_id(v, "sg", "security group id")
}
pub fn allocation_id(v: &str) -> Check {
    resource_id(v, "eipalloc", "Elastic IP allocation id")
}

fn rds_identifier(v: &str, max: usize, what: &str) -> Check {
    len_between(v, 1, max, what)?;
    if !v.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return problem(
            format!("a {what} starts with a letter"),
            "RDS identifiers start with a letter",
        );
    }
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return problem(
            format!("`{bad}` is not allowed"),
            "RDS identifiers hold only letters, digits and hyphens",
        );
    }
    if v.contains("--") {
        return problem("two consecutive hyphens", "RDS identifiers never hold `--`");
    }
    if v.ends_with('-') {
        return problem("ends with a hyphen", "RDS identifiers never end with `-`");
    }
    Ok(())
}

pub fn db_instance(v: &str) -> Check {
    rds_identifier(v, 63, "RDS DB instance identifier")
}

/// A DB snapshot identifier, or its ARN (`arn:PARTITION:rds:REGION:ACCOUNT:snapshot:NAME`),
/// which is what the CloverDX upgrade template asks for.
pub fn db_snapshot(v: &str) -> Check {
    if let Some(rest) = v.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(6, ':').collect();
        let [partition, "rds", region, account, "snapshot", name] = parts.as_slice() else {
            return problem(
                "not an RDS DB snapshot ARN",
                "use `arn:aws:rds:REGION:ACCOUNT:snapshot:NAME` or the bare snapshot identifier",
            );
        };
        partition_name(partition)?;
        self::region(region)?;
        account_id(account)?;
        return snapshot_name(name);
    }
    snapshot_name(v)
}

/// Automated and AWS Backup snapshots are named `rds:…` and `awsbackup:…`; the rest of the
/// name follows the identifier rules.
fn snapshot_name(v: &str) -> Check {
    let name = v
        .strip_prefix("rds:")
        .or_else(|| v.strip_prefix("awsbackup:"))
        .unwrap_or(v);
    rds_identifier(name, 255, "RDS DB snapshot identifier")
}

fn partition_name(p: &str) -> Check {
    one_of(p, &["aws", "aws-cn", "aws-us-gov"], "AWS partition")
}

pub fn account_id(v: &str) -> Check {
    if v.len() != 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return problem("an AWS account id is 12 digits", "e.g. `123456789012`");
    }
    Ok(())
}

pub fn region(v: &str) -> Check {
    one_of(v, super::regions::aws::REGIONS, "AWS region")
}

/// `family.size`, e.g. `m6i.xlarge` (EC2) — the family holds a generation digit.
pub fn instance_type(v: &str) -> Check {
    let ok = v.split_once('.').is_some_and(|(family, size)| {
        family.starts_with(|c: char| c.is_ascii_lowercase())
            && family.chars().any(|c| c.is_ascii_digit())
            && family
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !size.is_empty()
            && size
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if !ok {
        return problem(
            "not an EC2 instance type",
            "use FAMILY.SIZE as EC2 names it, e.g. `m6i.xlarge`",
        );
    }
    Ok(())
}

pub fn db_instance_class(v: &str) -> Check {
    match v.strip_prefix("db.") {
        Some(rest) if instance_type(rest).is_ok() => Ok(()),
        _ => problem(
            "not an RDS DB instance class",
            "use `db.` and FAMILY.SIZE, e.g. `db.m6g.large`",
        ),
    }
}

/// EC2 key pair names: up to 255 ASCII characters.
pub fn key_name(v: &str) -> Check {
    len_between(v, 1, 255, "key pair name")?;
    if !v.is_ascii() || v.chars().any(|c| c.is_ascii_control()) {
        return problem(
            "key pair names are printable ASCII",
            "use the name as `aws ec2 describe-key-pairs` lists it",
        );
    }
    Ok(())
}

/// Tag keys: 1–128 characters, not in the reserved `aws:` namespace; keys and values use
/// letters, numbers, spaces and `_ . : / = + - @` (Tagging AWS resources, "Tag naming limits
/// and requirements"; cfn-lint enforces the same pattern).
pub fn tag_key(v: &str) -> Check {
    len_between(v, 1, 128, "tag key")?;
    if v.to_ascii_lowercase().starts_with("aws:") {
        return problem(
            "the `aws:` prefix is reserved",
            "AWS reserves tag keys that start with `aws:`; choose another key",
        );
    }
    tag_chars(v)
}

pub fn tag_value(v: &str) -> Check {
    len_between(v, 0, 256, "tag value")?;
    tag_chars(v)
}

fn tag_chars(v: &str) -> Check {
    let allowed = |c: char| {
        c.is_alphabetic()
            || c.is_numeric()
            // AWS allows Unicode spaces (\p{Z}); the line and paragraph separators are in
            // that class but end lines in YAML 1.1 readers and JavaScript, so they are refused.
            || (c.is_whitespace() && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
            || "_.:/=+-@".contains(c)
    };
    if let Some(bad) = v.chars().find(|c| !allowed(*c)) {
        return problem(
            format!("`{}` is not allowed in AWS tags", bad.escape_debug()),
            "AWS tags hold letters, numbers, spaces and _ . : / = + - @",
        );
    }
    Ok(())
}

/// A Secrets Manager secret ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`) or an
/// SSM parameter ARN (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`).
pub fn secret_arn(v: &str) -> Check {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let shape = || {
        problem(
            "not a Secrets Manager or SSM parameter ARN",
            "use `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME` or \
             `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`",
        )
    };
    let ["arn", partition, service, region, account, resource] = parts.as_slice() else {
        return shape();
    };
    partition_name(partition)?;
    self::region(region)?;
    account_id(account)?;
    let named = match *service {
        "secretsmanager" => resource.strip_prefix("secret:"),
        "ssm" => resource.strip_prefix("parameter/"),
        _ => None,
    };
    match named {
        Some(name) if !name.is_empty() => Ok(()),
        _ => shape(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_ids_take_8_or_17_hex_digits() {
        assert!(instance_id("i-0123456789abcdef0").is_ok());
        assert!(instance_id("i-01234567").is_ok());
        assert!(instance_id("i-0123456789").is_err());
        assert!(instance_id("i-0123456789ABCDEF0").is_err());
        assert!(instance_id("vol-0123456789abcdef0").is_err());
        assert!(allocation_id("eipalloc-0123456789abcdef0").is_ok());
    }

    #[test]
    fn rds_identifiers_follow_the_naming_rules() {
        assert!(db_instance("clover-prod-db").is_ok());
        assert!(db_instance("1clover").is_err());
        assert!(db_instance("clover--db").is_err());
        assert!(db_instance("clover-").is_err());
        assert!(db_instance(&"a".repeat(64)).is_err());
        assert!(db_snapshot(&"a".repeat(255)).is_ok());
        assert!(db_snapshot("arn:aws:rds:eu-west-1:123456789012:snapshot:before-7").is_ok());
        assert!(db_snapshot("arn:aws:rds:eu-west-1:1234:snapshot:before-7").is_err());
        assert!(
            db_snapshot("arn:aws:rds:eu-west-1:123456789012:snapshot:rds:clover-2024-11-20-22-05")
                .is_ok()
        );
        assert!(db_snapshot("rds:clover-prod-db-2024-11-20-22-05").is_ok());
    }

    #[test]
    fn tags_follow_the_aws_character_rules() {
        assert!(tag_key("cost-center").is_ok());
        assert!(tag_value("žluťoučký kůň: a/b=c+d@e").is_ok());
        assert!(tag_value("it's").is_err());
        assert!(tag_value("a\nb").is_err());
        assert!(tag_key("aws:owner").is_err());
    }

    #[test]
    fn instance_types_and_classes() {
        assert!(instance_type("m6i.xlarge").is_ok());
        assert!(instance_type("u-6tb1.metal").is_ok());
        assert!(instance_type("xlarge").is_err());
        assert!(db_instance_class("db.m6g.large").is_ok());
        assert!(db_instance_class("m6g.large").is_err());
    }
}
