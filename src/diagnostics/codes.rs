//! The catalogue of diagnostic codes: what each means, for `cloverlift explain` and for the
//! rule list of SARIF output.

pub struct CodeDoc {
    pub code: &'static str,
    pub summary: &'static str,
    pub explanation: &'static str,
}

pub const CODES: &[CodeDoc] = &[
    CodeDoc {
        code: "spec::yaml",
        summary: "The YAML does not parse",
        explanation: "The file is not readable YAML: a syntax error, a tab in indentation, a \
            second document, an unsupported tag, or bytes that are not UTF-8 text. The position \
            is where the parser stopped.",
    },
    CodeDoc {
        code: "spec::duplicate_key",
        summary: "A mapping repeats a key",
        explanation: "YAML allows one value per key; most tools silently keep the last one, \
            which hides mistakes. cloverlift refuses the file and points at both keys.",
    },
    CodeDoc {
        code: "spec::unknown_field",
        summary: "A key that the format does not have",
        explanation: "The spec format is closed: a misspelled key would otherwise be ignored. \
            The help suggests the nearest known key.",
    },
    CodeDoc {
        code: "spec::missing_field",
        summary: "A required key is absent",
        explanation: "The span is the mapping that lacks the key; the help says what the key \
            holds.",
    },
    CodeDoc {
        code: "spec::invalid_value",
        summary: "A value has the wrong type or form",
        explanation: "Wrong type, a value outside an enumeration, a malformed duration (`90s`, \
            `10m`, `1h`), version (MAJOR.MINOR.PATCH), name or URL (`server.url` must be \
            https, or http only to localhost / 127.0.0.1).",
    },
    CodeDoc {
        code: "spec::invalid_id",
        summary: "A cloud identifier does not match its syntax",
        explanation: "AWS ids (i-, vol-, snap-, ami-, subnet-, sg-, eipalloc- and 8 or 17 hex \
            digits), RDS identifiers, Azure names and resource ids, Google Cloud names and \
            project ids, and regions, locations and zones from each provider's list.",
    },
    CodeDoc {
        code: "spec::cloud_mismatch",
        summary: "A block for another cloud, or the block for `cloud:` is missing",
        explanation: "`from` (and, for the architecture strategy, `to`) must hold the block \
            named by `cloud:` and no other.",
    },
    CodeDoc {
        code: "spec::version_order",
        summary: "`to.version` is not newer than `from.version`",
        explanation: "Versions compare numerically, part by part: 6.10.0 is newer than 6.9.9.",
    },
    CodeDoc {
        code: "spec::literal_secret",
        summary: "A secret given as a plain string",
        explanation: "Secrets are references (`env`, `file`, `aws_secret`, `azure_key_vault`, \
            `gcp_secret`) resolved only by `apply`, so a spec can be committed and reviewed.",
    },
    CodeDoc {
        code: "spec::requires",
        summary: "A field needs another",
        explanation: "For example `steps.move_address` needs the old address, `strategy: war` \
            needs `to.war` and forbids `to.<cloud>` and reused snapshots.",
    },
    CodeDoc {
        code: "spec::unknown_step",
        summary: "A hook names no step or hook of this plan",
        explanation: "Hooks refer to built-in step ids or hook names. Some built-in steps are \
            absent from some plans (reused snapshots drop pause, the snapshots and resume).",
    },
    CodeDoc {
        code: "spec::cycle",
        summary: "Hooks make the plan graph cyclic",
        explanation: "The message names the cycle; the span is the hook that closes it.",
    },
    CodeDoc {
        code: "spec::unsupported_version",
        summary: "`version:` is not a format version this build reads",
        explanation: "This build reads format version 1.",
    },
    CodeDoc {
        code: "spec::limit",
        summary: "The input exceeds a safety limit",
        explanation: "Files over 1 MiB, nesting deeper than 64 levels, or aliases expanding the \
            document past 100,000 nodes are refused early, so hostile input cannot exhaust \
            memory or time.",
    },
    CodeDoc {
        code: "io::read",
        summary: "The file cannot be read",
        explanation: "The path does not exist, is a directory or is not readable. The command \
            exits with 2, a usage or I/O error, rather than 1.",
    },
    CodeDoc {
        code: "cloverlift::internal",
        summary: "A bug in cloverlift",
        explanation: "The tool reached a state it should not. Please report it with the spec.",
    },
];

pub fn find(code: &str) -> Option<&'static CodeDoc> {
    CODES.iter().find(|c| c.code == code)
}
