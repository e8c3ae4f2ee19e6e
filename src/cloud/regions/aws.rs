//! AWS region codes: the commercial `aws` partition plus the AWS GovCloud (US)
//! (`aws-us-gov`) and China (`aws-cn`) partitions, sorted. Checked 2026-11-25.
//!
//! Source: the AWS SDK partition metadata, `partitions.json` (aws/aws-sdk-js-v3
//! `packages/util-endpoints/src/lib/aws/partitions.json`, boto/botocore
//! `botocore/data/partitions.json`), whose newest copy adds `ap-east-2` (Asia Pacific
//! (Taipei)) and `ap-southeast-6` (Asia Pacific (New Zealand)); both also appear in AWS's
//! own service-endpoint tables (Amazon Redshift endpoints, AWS General Reference). Left out:
//! the `aws-global`-style pseudo-regions, the isolated ISO partitions (`us-iso-*`,
//! `us-isob-*`, `eu-isoe-*`, `us-isof-*`) and the AWS European Sovereign Cloud
//! (`aws-eusc`, `eusc-de-east-1`), which are not public commercial regions.
//!
//! Kept as data so a spec can be validated offline: a region not in this list is a
//! `spec::invalid_id` diagnostic whose help suggests the nearest name ("did you mean ...?").
//! Add a region here when AWS adds it to the partition metadata.

pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",     // aws-cn partition: China (Beijing), operated by Sinnet
    "cn-northwest-1", // aws-cn partition: China (Ningxia), operated by NWCD
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1", // aws-us-gov partition: AWS GovCloud (US-East)
    "us-gov-west-1", // aws-us-gov partition: AWS GovCloud (US-West)
    "us-west-1",
    "us-west-2",
];
