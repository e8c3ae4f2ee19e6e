//! cloverlift's EC2 Query client against two strict counterparts:
//! - moto in server mode with IAM authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`): moto then
//!   recomputes every request's SigV4 signature with botocore and refuses a mismatch
//!   (`AuthFailure`), so these requests are checked by AWS's own Python signer, hard characters
//!   in the signed body included;
//! - a local socket that answers as EC2 does when it throttles, to see the client wait and send
//!   again, and not send again what may have been acted on.

#![cfg(feature = "aws")]

mod common;
mod doubles;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use cloverlift::apply::providers::aws::ec2::Ec2;

fn config(key: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key, secret, None, None, "test",
        )))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

/// The unauthenticated requests the set-up makes: CreateUser, CreateAccessKey, PutUserPolicy,
/// CreateVolume. Every request after them must carry a valid signature.
const SETUP_REQUESTS: usize = 4;

const SETUP: &str = r#"
import json, sys
import boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="AKIASETUP0000000000", aws_secret_access_key="setup")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="cloverlift")
key = iam.create_access_key(UserName="cloverlift")["AccessKey"]
iam.put_user_policy(UserName="cloverlift", PolicyName="ec2", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}))
vol = boto3.client("ec2", **kw).create_volume(AvailabilityZone="us-east-1a", Size=8)
print(json.dumps({"key": key["AccessKeyId"], "secret": key["SecretAccessKey"], "volume": vol["VolumeId"]}))
"#;

#[tokio::test(flavor = "current_thread")]
async fn moto_with_authentication_on_accepts_every_signature() {
    let Some(venv) = doubles::moto_venv() else {
        return;
    };
    let requests = SETUP_REQUESTS.to_string();
    let (_moto, endpoint) = doubles::moto(&venv, &[("INITIAL_NO_AUTH_ACTION_COUNT", &requests)]);
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", SETUP, &endpoint])
        .output()
        .expect("set-up");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let setup: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let (key, secret) = (
        setup["key"].as_str().unwrap(),
        setup["secret"].as_str().unwrap(),
    );
    let volume = setup["volume"].as_str().unwrap();

    let ec2 = Ec2::new(&config(key, secret), Some(&endpoint)).expect("client");
    let volumes = ec2
        .describe_volumes(&[volume])
        .await
        .expect("DescribeVolumes");
    assert_eq!(volumes.len(), 1);
    assert_eq!(volumes[0].size, Some(8));

    // Values that percent-encoding and the signed payload hash must agree on.
    let hard = "plan a&b=c+d/é~*'";
    let created = ec2
        .create_snapshot(
            volume,
            "before the upgrade: 100% & more",
            &[("cloverlift:run", hard)],
        )
        .await
        .expect("CreateSnapshot");
    assert!(created.id.starts_with("snap-"), "{created:?}");
    let tagged = ec2
        .snapshots_tagged("cloverlift:run", hard)
        .await
        .expect("DescribeSnapshots by tag");
    assert_eq!(
        tagged.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [created.id.as_str()]
    );
    let by_id = ec2
        .describe_snapshots(&[&created.id])
        .await
        .expect("DescribeSnapshots");
    assert_eq!(by_id[0].state.as_deref(), Some("completed"));

    // A missing resource is EC2's own error, with its code.
    let missing = ec2
        .describe_instances(&["i-0123456789abcdef0"])
        .await
        .expect_err("no such instance");
    assert_eq!(missing.code, "InvalidInstanceID.NotFound", "{missing}");

    // The same requests with a wrong secret are refused, and not sent again.
    let forged = Ec2::new(&config(key, "not-the-secret"), Some(&endpoint)).expect("client");
    let refused = forged
        .describe_volumes(&[volume])
        .await
        .expect_err("refused");
    assert_eq!(refused.code, "AuthFailure", "{refused}");
    assert_eq!(refused.status, 401, "{refused}");
}

/// Answers each request with the next of `answers` (status, body), recording the bodies.
fn scripted_ec2(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                authorized |= lower.starts_with("authorization: aws4-hmac-sha256 credential=");
            }
            let mut request = vec![0; length];
            let _ = reader.read_exact(&mut request);
            let text = String::from_utf8_lossy(&request).into_owned();
            record
                .lock()
                .unwrap()
                .push(if authorized { text } else { "UNSIGNED".into() });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.get_mut().write_all(reply.as_bytes());
        }
    });
    (endpoint, seen)
}

const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>";
const BUSY: &str = "<Response><Errors><Error><Code>InternalError</Code><Message>An internal error has occurred</Message></Error></Errors><RequestID>r2</RequestID></Response>";
const VPCS: &str = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r3</requestId><vpcSet><item><vpcId>vpc-1</vpcId><cidrBlock>10.1.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>"#;

#[tokio::test(flavor = "current_thread")]
async fn throttles_and_faults_are_sent_again_but_a_change_only_after_a_throttle() {
    let (endpoint, seen) = scripted_ec2(vec![(503, THROTTLED), (500, BUSY), (200, VPCS)]);
    let ec2 = Ec2::new(&config("AKIAEXAMPLE", "secret"), Some(&endpoint)).expect("client");
    let vpcs = ec2
        .describe_vpcs(&["vpc-1"])
        .await
        .expect("third time lucky");
    assert_eq!(vpcs[0].cidr.as_deref(), Some("10.1.0.0/16"));
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies
            .iter()
            .all(|b| b == "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1"),
        "{bodies:?}"
    );

    // CreateSnapshot after a 500 may have created a snapshot: it is not sent again.
    let (endpoint, seen) = scripted_ec2(vec![(503, THROTTLED), (500, BUSY), (200, VPCS)]);
    let ec2 = Ec2::new(&config("AKIAEXAMPLE", "secret"), Some(&endpoint)).expect("client");
    let err = ec2
        .create_snapshot("vol-1", "d", &[])
        .await
        .expect_err("a fault on a change is final");
    assert_eq!(err.code, "InternalError");
    assert_eq!(err.request_id.as_deref(), Some("r2"));
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "throttled once, then failed once"
    );
}
