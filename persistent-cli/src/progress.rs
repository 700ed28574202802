//! Progress bars on standard error (`indicatif`). The rule: a bar is drawn only when
//! standard error is a terminal and the output is not `--json`; otherwise every bar is a
//! hidden one, so scripts and tests see the same output with or without a terminal. What
//! does not live here: what a command counts.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `units` toward `total` (a spinner with a count when `total` is unknown),
/// drawn under the rule above.
pub fn bar(json: bool, total: Option<u64>, units: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            format!("{{msg}} [{{bar:40}}] {{human_pos}}/{{human_len}} {units} ({{per_sec}}, {{eta}} left)"),
        ),
        None => (ProgressBar::new_spinner(), format!("{{spinner}} {{msg}} {{human_pos}} {units} ({{per_sec}})")),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
