//! Progress bars on standard error (`indicatif`). The rule: a bar is drawn only when
//! standard error is a terminal and the output is not `--json`; otherwise every bar is a
//! hidden one, so scripts and tests see the same output with or without a terminal. A bar
//! starts as a spinner with a count and becomes a bar with a length and an estimate once
//! its total is known ([`set_total`]). What does not live here: what a command counts.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner counting `units`, drawn under the rule above, with `message` in front.
pub fn bar(json: bool, message: &'static str, units: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let template = format!("{{spinner}} {{msg}} {{human_pos}} {units} ({{per_sec:0}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar
}

/// Gives a drawn `bar` counting `units` its `total`: from now on it shows how far it is and
/// an estimate of the time left. No effect on a hidden bar.
pub fn set_total(bar: &ProgressBar, total: u64, units: &str) {
    if bar.is_hidden() {
        return;
    }
    bar.set_length(total);
    let template = format!(
        "{{msg}} [{{bar:40}}] {{human_pos}}/{{human_len}} {units} ({{per_sec:0}}, {{eta}} left)"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
}
