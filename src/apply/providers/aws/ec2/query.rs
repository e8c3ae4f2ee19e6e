//! An EC2 Query request body: `Action`, `Version` and the operation's parameters, flattened
//! the way the EC2 protocol flattens them (lists as `Name.1`, `Name.2`; structures as
//! `Name.1.Member`) and form-encoded.

/// The API version every operation here is documented under.
pub const API_VERSION: &str = "2016-11-15";

/// One request's parameters, in the order they were added (the body is then stable, which
/// keeps requests comparable in the tests' recordings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    action: &'static str,
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(action: &'static str) -> Params {
        Params {
            action,
            pairs: Vec::new(),
        }
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    /// A scalar member: `Name=value`.
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Params {
        self.pairs.push((name.to_owned(), value.into()));
        self
    }

    /// A list member: `Name.1=a&Name.2=b`.
    pub fn list<S: AsRef<str>>(mut self, name: &str, values: &[S]) -> Params {
        for (i, v) in values.iter().enumerate() {
            self.pairs
                .push((format!("{name}.{}", i + 1), v.as_ref().to_owned()));
        }
        self
    }

    /// One `Filter`: `Filter.N.Name=name&Filter.N.Value.1=…`.
    pub fn filter<S: AsRef<str>>(mut self, name: &str, values: &[S]) -> Params {
        let n = 1 + self
            .pairs
            .iter()
            .filter(|(k, _)| k.starts_with("Filter.") && k.ends_with(".Name"))
            .count();
        self.pairs
            .push((format!("Filter.{n}.Name"), name.to_owned()));
        for (i, v) in values.iter().enumerate() {
            self.pairs
                .push((format!("Filter.{n}.Value.{}", i + 1), v.as_ref().to_owned()));
        }
        self
    }

    /// `TagSpecification.1`: the tags a created resource of `resource_type` carries.
    pub fn tag_specification(mut self, resource_type: &str, tags: &[(&str, &str)]) -> Params {
        self.pairs.push((
            "TagSpecification.1.ResourceType".into(),
            resource_type.to_owned(),
        ));
        for (i, (k, v)) in tags.iter().enumerate() {
            let n = i + 1;
            self.pairs
                .push((format!("TagSpecification.1.Tag.{n}.Key"), (*k).to_owned()));
            self.pairs
                .push((format!("TagSpecification.1.Tag.{n}.Value"), (*v).to_owned()));
        }
        self
    }

    /// The form-encoded body, `Action` and `Version` first.
    pub fn body(&self, next_token: Option<&str>) -> String {
        let mut out = format!("Action={}&Version={API_VERSION}", self.action);
        let token = next_token.map(|t| ("NextToken", t));
        let pairs = self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (k, v) in pairs.chain(token) {
            out.push('&');
            encode_into(&mut out, k);
            out.push('=');
            encode_into(&mut out, v);
        }
        out
    }
}

/// Form encoding as the AWS CLI's botocore sends it (Python's `urlencode`): the unreserved
/// bytes as they are, a space as `+`, every other byte percent-encoded, so `&`, `=`, `+` and
/// UTF-8 in a value reach EC2 intact. The signature covers these exact bytes.
fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_filters_and_tags_flatten_as_the_ec2_protocol_does() {
        let p = Params::new("DescribeSnapshots")
            .list("SnapshotId", &["snap-1", "snap-2"])
            .filter("tag:cloverlift:run", &["plan-17"])
            .filter("status", &["completed", "pending"]);
        assert_eq!(
            p.body(None),
            "Action=DescribeSnapshots&Version=2016-11-15&SnapshotId.1=snap-1&SnapshotId.2=snap-2\
             &Filter.1.Name=tag%3Acloverlift%3Arun&Filter.1.Value.1=plan-17\
             &Filter.2.Name=status&Filter.2.Value.1=completed&Filter.2.Value.2=pending"
        );
        let c = Params::new("CreateSnapshot")
            .set("VolumeId", "vol-1")
            .tag_specification("snapshot", &[("k", "a b&c=d+é")]);
        assert_eq!(
            c.body(Some("tok/+=")),
            "Action=CreateSnapshot&Version=2016-11-15&VolumeId=vol-1\
             &TagSpecification.1.ResourceType=snapshot&TagSpecification.1.Tag.1.Key=k\
             &TagSpecification.1.Tag.1.Value=a+b%26c%3Dd%2B%C3%A9&NextToken=tok%2F%2B%3D"
        );
    }
}
