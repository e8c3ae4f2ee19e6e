//! Azure location names as Azure Resource Manager spells them (lowercase, no spaces),
//! physical regions of the Azure public cloud only, sorted. Checked 2026-11-25.
//!
//! Source: Microsoft Learn, "Azure regions list" (MicrosoftDocs/reliability-docs
//! `articles/reliability/regions-list.md`, "Programmatic name" column), which also names
//! `swedensouth` as Sweden Central's paired region; `jioindiacentral` and `jioindiawest` as
//! listed by `az account list-locations` (`regionType: Physical`). `denmarkeast`, marked
//! "coming soon" in that article, has since opened. Access-restricted regions (available on
//! request, for example for in-country disaster recovery) are included and marked. Left
//! out: logical locations (`global`, `europe`, `unitedstates`, ...), canary and staging
//! locations (`*euap`, `*stage`, `*stg`), and the sovereign clouds (Azure Government,
//! Azure operated by 21Vianet).
//!
//! Kept as data so a spec can be validated offline: a location not in this list is a
//! `spec::invalid_id` diagnostic whose help suggests the nearest name ("did you mean ...?").

pub const LOCATIONS: &[&str] = &[
    "australiacentral",
    "australiacentral2", // access-restricted region
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast", // access-restricted region
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "chilecentral",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "francesouth",  // access-restricted region
    "germanynorth", // access-restricted region
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral", // access-restricted region
    "jioindiawest",    // access-restricted region
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest", // access-restricted region
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest", // access-restricted region
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth", // access-restricted region
    "switzerlandnorth",
    "switzerlandwest", // access-restricted region
    "uaecentral",      // access-restricted region
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];
