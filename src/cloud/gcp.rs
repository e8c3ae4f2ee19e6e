//! Google Cloud identifier syntax.
//!
//! Sources: Compute Engine resource names follow RFC 1035, `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`
//! (Compute Engine docs, "Naming resources"); project ids are 6–30 lowercase letters, digits
//! and hyphens, start with a letter and do not end with a hyphen (Resource Manager docs,
//! "Creating and managing projects"); Cloud SQL instance ids are lowercase letters, digits and
//! hyphens starting with a letter (Cloud SQL docs, "Create instances").

use super::{Check, one_of, problem};

/// An RFC 1035 label, as Compute Engine names disks, instances, addresses and snapshots.
pub fn name(v: &str) -> Check {
    let ok = (1..=63).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.ends_with('-');
    if !ok {
        return problem(
            "not a Compute Engine name",
            "names are 1–63 lowercase letters, digits and hyphens, start with a letter and do not \
             end with a hyphen",
        );
    }
    Ok(())
}

pub fn project(v: &str) -> Check {
    let ok = (6..=30).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.ends_with('-');
    if !ok {
        return problem(
            "not a project id",
            "project ids are 6–30 lowercase letters, digits and hyphens, start with a letter and \
             do not end with a hyphen (`gcloud projects list`)",
        );
    }
    Ok(())
}

pub fn region(v: &str) -> Check {
    one_of(v, super::regions::gcp::REGIONS, "Google Cloud region")
}

pub fn zone(v: &str) -> Check {
    one_of(v, super::regions::gcp::ZONES, "Google Cloud zone")
}

/// The region a zone belongs to: `europe-west1-b` → `europe-west1`.
pub fn zone_region(zone: &str) -> Option<&str> {
    zone.rsplit_once('-').map(|(region, _)| region)
}

pub fn sql_instance(v: &str) -> Check {
    let ok = (1..=98).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.ends_with('-');
    if !ok {
        return problem(
            "not a Cloud SQL instance id",
            "instance ids are lowercase letters, digits and hyphens and start with a letter",
        );
    }
    Ok(())
}

/// Cloud SQL backup run ids are 64-bit integers, written as digits.
pub fn backup_id(v: &str) -> Check {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return problem(
            "a Cloud SQL backup id is a number",
            "list backups with `gcloud sql backups list --instance INSTANCE` and quote the id",
        );
    }
    Ok(())
}

/// `db-custom-2-7680`, `db-f1-micro`, `db-perf-optimized-N-8`.
pub fn sql_tier(v: &str) -> Check {
    let ok = v.strip_prefix("db-").is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !rest.ends_with('-')
    });
    if !ok {
        return problem(
            "not a Cloud SQL tier",
            "tiers look like `db-custom-2-7680` (`gcloud sql tiers list`)",
        );
    }
    Ok(())
}

/// `POSTGRES_15` and the like: the system database is PostgreSQL.
pub fn database_version(v: &str) -> Check {
    let ok = v
        .strip_prefix("POSTGRES_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return problem(
            "not a Cloud SQL PostgreSQL version",
            "write it as Cloud SQL names it, e.g. `POSTGRES_15`",
        );
    }
    Ok(())
}

/// A machine type name, e.g. `n2-standard-4` or `n2-custom-4-16384`.
pub fn machine_type(v: &str) -> Check {
    name(v).map_err(|_| super::Problem {
        reason: "not a machine type".into(),
        help: "machine types look like `n2-standard-4` (`gcloud compute machine-types list`)"
            .into(),
    })
}

/// An image: `projects/P/global/images/NAME`, `projects/P/global/images/family/FAMILY`, or a
/// bare image name in the deployment's project.
pub fn image(v: &str) -> Check {
    let segs: Vec<&str> = v.split('/').collect();
    match segs.as_slice() {
        [n] => name(n),
        ["projects", p, "global", "images", n] => project(p).and_then(|()| name(n)),
        ["projects", p, "global", "images", "family", f] => project(p).and_then(|()| name(f)),
        _ => problem(
            "not an image reference",
            "use `projects/PROJECT/global/images/NAME`, `…/images/family/FAMILY` or a name",
        ),
    }
}

/// A network or subnetwork: a name, or a `projects/P/global/networks/N` /
/// `projects/P/regions/R/subnetworks/S` path for shared VPCs.
pub fn network(v: &str) -> Check {
    let segs: Vec<&str> = v.split('/').collect();
    match segs.as_slice() {
        [n] => name(n),
        ["projects", p, "global", "networks", n] => project(p).and_then(|()| name(n)),
        _ => problem(
            "not a network reference",
            "use a network name or `projects/PROJECT/global/networks/NAME`",
        ),
    }
}

pub fn subnetwork(v: &str) -> Check {
    let segs: Vec<&str> = v.split('/').collect();
    match segs.as_slice() {
        [n] => name(n),
        ["projects", p, "regions", r, "subnetworks", n] => {
            project(p).and_then(|()| region(r)).and_then(|()| name(n))
        }
        _ => problem(
            "not a subnetwork reference",
            "use a subnetwork name or `projects/PROJECT/regions/REGION/subnetworks/NAME`",
        ),
    }
}

/// `projects/P/secrets/S/versions/V`, V a number or `latest`.
pub fn secret_version(v: &str) -> Check {
    let segs: Vec<&str> = v.split('/').collect();
    let ok = match segs.as_slice() {
        ["projects", p, "secrets", s, "versions", ver] => {
            !p.is_empty()
                && !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && (*ver == "latest"
                    || (!ver.is_empty() && ver.bytes().all(|b| b.is_ascii_digit())))
        }
        _ => false,
    };
    if !ok {
        return problem(
            "not a Secret Manager version",
            "use `projects/PROJECT/secrets/NAME/versions/VERSION` (a number or `latest`)",
        );
    }
    Ok(())
}

/// A service account email: `NAME@PROJECT.iam.gserviceaccount.com` (user-managed), or one of
/// Google's own domains (`…@developer.gserviceaccount.com`, `…@cloudservices.gserviceaccount.com`).
pub fn service_account(v: &str) -> Check {
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            (6..=30).contains(&local.len())
                && local.starts_with(|c: char| c.is_ascii_lowercase())
                && local
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && domain.ends_with(".gserviceaccount.com")
                && domain
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        }
        None => false,
    };
    if !ok {
        return problem(
            "not a service account email",
            "use the service account's email, e.g. `infra-manager@PROJECT.iam.gserviceaccount.com`",
        );
    }
    Ok(())
}

/// A Cloud Storage bucket name without dots: 3–63 lowercase letters, digits, `-` and `_`,
/// starting and ending with a letter or digit (dotted names need domain verification, which
/// a tool-owned bucket has no use for).
pub fn bucket(v: &str) -> Check {
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (3..=63).contains(&v.len())
        && v.starts_with(edge)
        && v.ends_with(edge)
        && v.chars().all(|c| edge(c) || c == '-' || c == '_')
        && !v.starts_with("goog");
    if !ok {
        return problem(
            "not a Cloud Storage bucket name",
            "bucket names are 3–63 lowercase letters, digits, `-` and `_`, start and end with a \
             letter or digit, and do not start with `goog`",
        );
    }
    Ok(())
}

/// Label keys: 1–63 lowercase letters, digits, `_` and `-`, starting with a letter
/// (Resource Manager docs, "Labels").
pub fn label_key(v: &str) -> Check {
    if !v.starts_with(|c: char| c.is_ascii_lowercase()) || label_value(v).is_err() || v.is_empty() {
        return problem(
            "not a label key",
            "label keys are 1–63 lowercase letters, digits, `_` and `-`, starting with a letter",
        );
    }
    Ok(())
}

pub fn label_value(v: &str) -> Check {
    let ok = v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return problem(
            "not a label value",
            "label values are at most 63 lowercase letters, digits, `_` and `-`",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_projects() {
        assert!(name("clover-data-before-7").is_ok());
        assert!(name("Clover").is_err());
        assert!(name("clover-").is_err());
        assert!(name(&"a".repeat(64)).is_err());
        assert!(project("acme-clover-prod").is_ok());
        assert!(project("acme").is_err());
        assert!(backup_id("1732140000000").is_ok());
        assert!(backup_id("latest").is_err());
    }

    #[test]
    fn images_tiers_and_zones() {
        assert!(image("projects/cloverdx-public/global/images/cloverdx-server-7-0-1").is_ok());
        assert!(image("projects/cloverdx-public/global/images/family/cloverdx").is_ok());
        assert!(image("projects/x/images/y").is_err());
        assert!(sql_tier("db-custom-2-7680").is_ok());
        assert!(sql_tier("db-f1-micro").is_ok());
        assert!(sql_tier("custom-2").is_err());
        assert_eq!(zone_region("europe-west1-b"), Some("europe-west1"));
    }
}
