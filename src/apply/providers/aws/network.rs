//! What the old deployment's security groups admit, read before anything changes: the new
//! server must not carry a group the old system database admits (the boot guard is the first
//! line, this is the second), and a security group the template creates copies the network the
//! old server admits on HTTPS instead of opening the VPC.

use super::ec2::{IpPermission, SecurityGroup};

/// An IPv4 network `a.b.c.d/n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    addr: u32,
    len: u8,
}

impl Ipv4Net {
    pub fn parse(text: &str) -> Option<Ipv4Net> {
        let (addr, len) = text.split_once('/')?;
        let addr: std::net::Ipv4Addr = addr.parse().ok()?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
        Some(Ipv4Net {
            addr: u32::from(addr),
            len,
        })
    }

    fn mask(self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - self.len)
        }
    }

    /// Whether the two networks share an address.
    pub fn overlaps(self, other: Ipv4Net) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// Whether every address of `other` is in `self`.
    pub fn contains(self, other: Ipv4Net) -> bool {
        self.len <= other.len && (self.addr & self.mask()) == (other.addr & self.mask())
    }
}

/// One way the old database's security groups let traffic in on its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admits {
    Group { rule_group: String, source: String },
    Cidr { rule_group: String, cidr: String },
}

impl std::fmt::Display for Admits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Admits::Group { rule_group, source } => {
                write!(f, "{rule_group} admits security group {source}")
            }
            Admits::Cidr { rule_group, cidr } => write!(f, "{rule_group} admits {cidr}"),
        }
    }
}

/// Whether a rule lets TCP in on `port`.
fn covers(p: &IpPermission, port: i32) -> bool {
    match p.protocol.as_str() {
        "-1" => true,
        "tcp" | "6" => p.from_port.unwrap_or(0) <= port && port <= p.to_port.unwrap_or(65535),
        _ => false,
    }
}

/// Every source the groups admit on `port`, in the groups' order.
pub fn admitted(groups: &[SecurityGroup], port: i32) -> Vec<Admits> {
    let mut out = Vec::new();
    for g in groups {
        for p in g.inbound.iter().filter(|p| covers(p, port)) {
            out.extend(p.groups.iter().map(|source| Admits::Group {
                rule_group: g.id.clone(),
                source: source.clone(),
            }));
            out.extend(p.cidrs.iter().map(|cidr| Admits::Cidr {
                rule_group: g.id.clone(),
                cidr: cidr.clone(),
            }));
        }
    }
    out
}

/// The one network the old server's groups admit on HTTPS, for the new server's own group.
/// Several networks (or none) cannot become the template's single `AllowedCidr`: the spec must
/// say then.
pub fn https_network(groups: &[SecurityGroup]) -> Result<String, String> {
    let mut cidrs: Vec<String> = admitted(groups, 443)
        .into_iter()
        .filter_map(|a| match a {
            Admits::Cidr { cidr, .. } => Some(cidr),
            Admits::Group { .. } => None,
        })
        .collect();
    cidrs.sort();
    cidrs.dedup();
    match cidrs.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("the old server's security groups admit no IPv4 network on port 443; set to.aws.ingress_cidr".into()),
        many => Err(format!(
            "the old server's security groups admit several networks on port 443 ({}); set to.aws.ingress_cidr to the one the new server should admit",
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        id: &str,
        from: i32,
        to: i32,
        source_group: Option<&str>,
        cidr: Option<&str>,
    ) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            inbound: vec![IpPermission {
                protocol: "tcp".into(),
                from_port: Some(from),
                to_port: Some(to),
                groups: source_group.into_iter().map(str::to_owned).collect(),
                cidrs: cidr.into_iter().map(str::to_owned).collect(),
            }],
        }
    }

    #[test]
    fn networks_contain_their_subnets() {
        let vpc = Ipv4Net::parse("10.20.0.0/16").expect("net");
        assert!(vpc.contains(Ipv4Net::parse("10.20.1.0/24").expect("net")));
        assert!(!vpc.contains(Ipv4Net::parse("10.21.1.0/24").expect("net")));
        assert!(Ipv4Net::parse("0.0.0.0/0").expect("net").contains(vpc));
        assert!(Ipv4Net::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn only_rules_on_the_port_count() {
        let groups = [
            group("sg-db", 5432, 5432, Some("sg-app"), None),
            group("sg-other", 22, 22, Some("sg-ssh"), Some("10.0.0.0/8")),
        ];
        assert_eq!(
            admitted(&groups, 5432),
            [Admits::Group {
                rule_group: "sg-db".into(),
                source: "sg-app".into()
            }]
        );
    }

    #[test]
    fn one_https_network_is_copied_and_several_are_refused() {
        let one = [group("sg-a", 443, 443, None, Some("198.51.100.0/24"))];
        assert_eq!(https_network(&one).as_deref(), Ok("198.51.100.0/24"));
        let two = [
            group("sg-a", 443, 443, None, Some("198.51.100.0/24")),
            group("sg-b", 80, 443, None, Some("203.0.113.0/24")),
        ];
        assert!(https_network(&two).is_err());
        assert!(https_network(&[]).is_err());
    }
}
