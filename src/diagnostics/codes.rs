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
        code: "render::template",
        summary: "A template failed to parse or render",
        explanation: "The embedded templates or a `--templates` override: a syntax error, a variable the context does not have, an unknown helper, or output with escaping turned off (`{{{…}}}`, `{{& …}}`). The message names the template file, line and column, and the variables available there. A value Deployment Manager would evaluate as its own syntax is refused under this code too.",
    },
    CodeDoc {
        code: "render::format",
        summary: "`--format` does not fit the spec's cloud",
        explanation: "`terraform` and `deployment-manager` are Google Cloud outputs; AWS and Azure specs render their native format only.",
    },
    CodeDoc {
        code: "render::io",
        summary: "The output directory or a template override cannot be read or written",
        explanation: "`--out` names a file rather than a directory, a directory is not writable, or `--templates` does not exist. Nothing is half-written: each file is written to a temporary name and renamed.",
    },
    CodeDoc {
        code: "render::stale",
        summary: "`--out` holds rendered files this render does not write",
        explanation: "A directory rendered before for another cloud, strategy or format still \
            holds that render's files (`cloudformation.yaml` beside a new `main.tf.json`), which \
            a reviewer or a deploy step would take for current. Render into an empty directory, \
            or pass `--clean` to remove them; only rendered file names are removed.",
    },
    CodeDoc {
        code: "apply::confirm",
        summary: "apply or rollback needs `--yes` without a terminal",
        explanation: "With no terminal to ask on (CI, a pipe), apply and rollback change nothing unless `--yes` says the listed changes are intended. `--dry-run` prints them without asking.",
    },
    CodeDoc {
        code: "apply::unsupported",
        summary: "This build or cloud cannot apply the spec",
        explanation: "The render-only build (`--no-default-features`) has no cloud SDKs, and apply drives the clouds and strategies its providers implement; the message says which. Render the templates and deploy them with the cloud's own tools instead.",
    },
    CodeDoc {
        code: "apply::endpoint_url",
        summary: "`--endpoint-url` is not an http(s) URL",
        explanation: "The AWS endpoint override (for emulators such as moto) must be an http or https URL with a host.",
    },
    CodeDoc {
        code: "apply::new_server_url",
        summary: "`--new-server-url` is not allowed",
        explanation: "The new server's URL must be https; plain http is allowed only for localhost, so credentials never cross a network in clear text.",
    },
    CodeDoc {
        code: "apply::preflight",
        summary: "A preflight check failed; nothing was changed",
        explanation: "Before anything is paused, apply checks credentials, that every resource the spec names exists and is in the expected state, and that the CloverDX Server answers. A failure here leaves both clouds and the old server untouched.",
    },
    CodeDoc {
        code: "apply::locked",
        summary: "Another apply of the same plan is running",
        explanation: "The plan's state directory holds an OS lock for the life of the apply process. Wait for it; the OS releases the lock when that process ends, however it ends.",
    },
    CodeDoc {
        code: "apply::journal_exists",
        summary: "A journal from an earlier apply exists",
        explanation: "An earlier apply of this plan left its journal. Continue it with `--resume`, or move it away to start over; apply never overwrites a journal.",
    },
    CodeDoc {
        code: "apply::nothing_to_resume",
        summary: "`--resume` found no journal",
        explanation: "There is no journal in the state directory to resume from; run apply without `--resume`.",
    },
    CodeDoc {
        code: "apply::spec_changed",
        summary: "The spec changed since the journal was written",
        explanation: "A resumed apply must use the spec the interrupted one used (its sha256 is in the journal), or steps already done would be judged against a different plan.",
    },
    CodeDoc {
        code: "apply::journal_io",
        summary: "The journal or its lock cannot be read or written",
        explanation: "The state directory is not writable, or the journal or lock is a symbolic link, which is refused so that no write can be redirected to another file.",
    },
    CodeDoc {
        code: "apply::rollback",
        summary: "A rollback step failed",
        explanation: "Rollback reverses the cutover and stops the new server. Every phase is safe to repeat: fix the cause the message names and run the same command again.",
    },
    CodeDoc {
        code: "apply::nothing_to_roll_back",
        summary: "The journal shows no cutover",
        explanation: "Before cutover the old server still runs its schedules and listeners: there is nothing to roll back. Use `rollback --delete-new` to remove what apply created.",
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
