//! The parts of EC2's resources that apply reads, taken from the answers' elements by the
//! names the EC2 API reference gives them (`instanceState`, `groupSet`, `attachmentSet`…).

use super::xml::Node;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    pub state: Option<String>,
    pub security_groups: Vec<String>,
}

impl Instance {
    /// The instances of every reservation in a `DescribeInstances` answer.
    pub fn all_in(answer: &Node) -> Vec<Instance> {
        answer
            .items("reservationSet")
            .flat_map(|r| r.items("instancesSet"))
            .map(|i| Instance {
                id: owned(i.text_of("instanceId")),
                state: i
                    .child("instanceState")
                    .and_then(|s| s.text_of("name"))
                    .map(str::to_owned),
                security_groups: i
                    .items("groupSet")
                    .filter_map(|g| g.text_of("groupId"))
                    .map(str::to_owned)
                    .collect(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Volume {
    pub id: String,
    /// GiB.
    pub size: Option<u64>,
    /// The instances it is attached to.
    pub attached_to: Vec<String>,
}

impl Volume {
    pub fn all_in(answer: &Node) -> Vec<Volume> {
        answer
            .items("volumeSet")
            .map(|v| Volume {
                id: owned(v.text_of("volumeId")),
                size: v.text_of("size").and_then(|s| s.parse().ok()),
                attached_to: v
                    .items("attachmentSet")
                    .filter_map(|a| a.text_of("instanceId"))
                    .map(str::to_owned)
                    .collect(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    /// `pending`, `completed`, `error`, `recoverable`, `recovering` (the XML calls it `status`).
    pub state: Option<String>,
}

impl Snapshot {
    pub fn all_in(answer: &Node) -> Vec<Snapshot> {
        answer
            .items("snapshotSet")
            .map(Snapshot::from_node)
            .collect()
    }

    /// A `CreateSnapshot` answer is the snapshot itself.
    pub fn from_node(s: &Node) -> Snapshot {
        Snapshot {
            id: owned(s.text_of("snapshotId")),
            state: s.text_of("status").map(str::to_owned),
        }
    }
}

/// One inbound rule of a security group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpPermission {
    /// `tcp`, `udp`, `icmp`, a protocol number, or `-1` for all.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// Source security groups.
    pub groups: Vec<String>,
    /// Source IPv4 networks.
    pub cidrs: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub inbound: Vec<IpPermission>,
}

impl SecurityGroup {
    pub fn all_in(answer: &Node) -> Vec<SecurityGroup> {
        answer
            .items("securityGroupInfo")
            .map(|g| SecurityGroup {
                id: owned(g.text_of("groupId")),
                inbound: g
                    .items("ipPermissions")
                    .map(|p| IpPermission {
                        protocol: owned(p.text_of("ipProtocol")),
                        from_port: p.text_of("fromPort").and_then(|s| s.parse().ok()),
                        to_port: p.text_of("toPort").and_then(|s| s.parse().ok()),
                        groups: p
                            .items("groups")
                            .filter_map(|g| g.text_of("groupId"))
                            .map(str::to_owned)
                            .collect(),
                        cidrs: p
                            .items("ipRanges")
                            .filter_map(|r| r.text_of("cidrIp"))
                            .map(str::to_owned)
                            .collect(),
                    })
                    .collect(),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc: Option<String>,
    pub zone: Option<String>,
    pub cidr: Option<String>,
}

impl Subnet {
    pub fn all_in(answer: &Node) -> Vec<Subnet> {
        answer
            .items("subnetSet")
            .map(|s| Subnet {
                id: owned(s.text_of("subnetId")),
                vpc: s.text_of("vpcId").map(str::to_owned),
                zone: s.text_of("availabilityZone").map(str::to_owned),
                cidr: s.text_of("cidrBlock").map(str::to_owned),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub cidr: Option<String>,
}

impl Vpc {
    pub fn all_in(answer: &Node) -> Vec<Vpc> {
        answer
            .items("vpcSet")
            .map(|v| Vpc {
                id: owned(v.text_of("vpcId")),
                cidr: v.text_of("cidrBlock").map(str::to_owned),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub allocation: Option<String>,
    pub public_ip: Option<String>,
}

impl Address {
    pub fn all_in(answer: &Node) -> Vec<Address> {
        answer
            .items("addressesSet")
            .map(|a| Address {
                allocation: a.text_of("allocationId").map(str::to_owned),
                public_ip: a.text_of("publicIp").map(str::to_owned),
            })
            .collect()
    }
}

fn owned(text: Option<&str>) -> String {
    text.unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped as the EC2 API reference's DescribeSecurityGroups example.
    #[test]
    fn security_group_rules_keep_their_sources() {
        let doc = Node::parse(
            r#"<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <securityGroupInfo>
      <item>
         <ownerId>123456789012</ownerId>
         <groupId>sg-1a2b3c4d</groupId>
         <groupName>WebServers</groupName>
         <vpcId>vpc-1a2b3c4d</vpcId>
         <ipPermissions>
            <item>
               <ipProtocol>tcp</ipProtocol>
               <fromPort>80</fromPort>
               <toPort>443</toPort>
               <groups>
                  <item><userId>123456789012</userId><groupId>sg-0a0a0a0a</groupId></item>
               </groups>
               <ipRanges><item><cidrIp>203.0.113.0/24</cidrIp></item></ipRanges>
            </item>
            <item><ipProtocol>-1</ipProtocol><groups/><ipRanges/></item>
         </ipPermissions>
         <ipPermissionsEgress/>
      </item>
   </securityGroupInfo>
</DescribeSecurityGroupsResponse>"#,
        )
        .expect("xml");
        let groups = SecurityGroup::all_in(&doc);
        assert_eq!(
            groups,
            [SecurityGroup {
                id: "sg-1a2b3c4d".into(),
                inbound: vec![
                    IpPermission {
                        protocol: "tcp".into(),
                        from_port: Some(80),
                        to_port: Some(443),
                        groups: vec!["sg-0a0a0a0a".into()],
                        cidrs: vec!["203.0.113.0/24".into()],
                    },
                    IpPermission {
                        protocol: "-1".into(),
                        ..IpPermission::default()
                    },
                ],
            }]
        );
    }

    #[test]
    fn instances_volumes_and_snapshots_read_their_states() {
        let doc = Node::parse(
            r#"<DescribeInstancesResponse><reservationSet><item><instancesSet><item>
<instanceId>i-1</instanceId><instanceState><code>16</code><name>running</name></instanceState>
<groupSet><item><groupId>sg-1</groupId><groupName>a</groupName></item></groupSet>
</item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#,
        )
        .expect("xml");
        assert_eq!(
            Instance::all_in(&doc),
            [Instance {
                id: "i-1".into(),
                state: Some("running".into()),
                security_groups: vec!["sg-1".into()],
            }]
        );
        let doc = Node::parse(
            "<R><volumeSet><item><volumeId>vol-1</volumeId><size>80</size>\
             <attachmentSet><item><instanceId>i-1</instanceId><device>/dev/sdf</device></item></attachmentSet>\
             </item></volumeSet></R>",
        )
        .expect("xml");
        assert_eq!(
            Volume::all_in(&doc),
            [Volume {
                id: "vol-1".into(),
                size: Some(80),
                attached_to: vec!["i-1".into()],
            }]
        );
        let doc = Node::parse(
            "<R><snapshotSet><item><snapshotId>snap-1</snapshotId><status>completed</status></item></snapshotSet></R>",
        )
        .expect("xml");
        assert_eq!(
            Snapshot::all_in(&doc)[0].state.as_deref(),
            Some("completed")
        );
    }
}
