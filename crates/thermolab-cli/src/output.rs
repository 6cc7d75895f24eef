//! What the binary prints: human text or JSON Lines events on stdout, progress bars on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use thermolab::drivers::anneal::AnnealEvent;
use thermolab::drivers::spin::SweepEvent;
use thermolab::drivers::train::TrainEvent;
use thermolab::run::{Control, Observer, Termination};

/// Output format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line: `{"type": ..., "data": ...}`.
    Json,
}

/// The printer shared by a command's steps.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// The format.
    pub format: Format,
}

impl Out {
    /// Emits a machine event (JSON mode only).
    pub fn event(&self, kind: &str, data: Value) {
        if self.format == Format::Json {
            let line = json!({ "type": kind, "data": data });
            let mut so = std::io::stdout().lock();
            let _ = writeln!(so, "{line}");
        }
    }
    /// Prints a human line (text mode only).
    pub fn text(&self, line: &str) {
        if self.format == Format::Text {
            let mut so = std::io::stdout().lock();
            let _ = writeln!(so, "{line}");
        }
    }
    /// A progress bar of `len` steps, shown in text mode on a terminal; in JSON mode, `progress`
    /// events at most twice a second.
    pub fn progress(&self, len: u64, label: &str) -> Progress {
        let bar = (self.format == Format::Text && std::io::stderr().is_terminal()).then(|| {
            let pb = ProgressBar::new(len);
            pb.set_style(
                ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {msg} ({eta})")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            pb.set_prefix(label.to_string());
            pb
        });
        Progress {
            bar,
            every: (len / 200).max(1),
            n: 0,
            json: (self.format == Format::Json).then(|| JsonProgress {
                stage: label.to_string(),
                total: len,
                last: None,
                phase: None,
            }),
        }
    }
}

/// The state of JSON progress events.
struct JsonProgress {
    stage: String,
    total: u64,
    last: Option<std::time::Instant>,
    phase: Option<&'static str>,
}

impl JsonProgress {
    fn emit(&mut self, done: u64, force: bool) {
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(500));
        if !(due || force) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let mut data = json!({"stage": self.stage, "done": done, "total": self.total});
        if let Some(p) = self.phase {
            data["phase"] = json!(p);
        }
        let line = json!({"type": "progress", "data": data});
        let mut so = std::io::stdout().lock();
        let _ = writeln!(so, "{line}");
    }
}

/// A progress bar as an observer (updated every `len/200` steps).
pub struct Progress {
    bar: Option<ProgressBar>,
    every: u64,
    n: u64,
    json: Option<JsonProgress>,
}

impl Progress {
    /// Moves the bar to `pos` (for work counted outside the observer protocol).
    pub fn set(&mut self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
        if let Some(j) = self.json.as_mut() {
            j.emit(pos, false);
        }
    }
    /// Names the phase the run is in (`warmup`, `sampling`); a change is reported at once.
    pub fn set_phase(&mut self, phase: &'static str, pos: u64) {
        if let Some(j) = self.json.as_mut() {
            let changed = j.phase != Some(phase);
            j.phase = Some(phase);
            j.emit(pos, changed);
        }
        self.set(pos);
    }
    /// Clears the bar.
    pub fn finish(&mut self) {
        self.done()
    }
    fn tick(&mut self, msg: impl FnOnce() -> String) {
        self.n += 1;
        if let Some(j) = self.json.as_mut() {
            j.emit(self.n, false);
        }
        if let Some(b) = &self.bar {
            if self.n.is_multiple_of(self.every) {
                b.set_position(self.n);
                b.set_message(msg());
            }
        }
    }
    fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl<'a> Observer<AnnealEvent<'a>> for Progress {
    fn on_step(&mut self, e: &AnnealEvent<'a>) -> Control {
        self.tick(|| format!("best {:.4e}", e.best_energy));
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}

impl<'a> Observer<TrainEvent<'a>> for Progress {
    fn on_step(&mut self, e: &TrainEvent<'a>) -> Control {
        if let TrainEvent::Epoch { loss, .. } = e {
            self.tick(|| format!("loss {loss:.4e}"));
        }
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}

impl<'a> Observer<thermolab::drivers::sgmcmc::SgEvent<'a>> for Progress {
    fn on_step(&mut self, e: &thermolab::drivers::sgmcmc::SgEvent<'a>) -> Control {
        self.set(e.epoch as u64);
        if let (Some(b), Some(last)) = (
            &self.bar,
            e.chains.first().and_then(|c| c.epoch_energy.last()),
        ) {
            b.set_message(format!("energy {last:.4e}"));
        }
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}

impl Observer<SweepEvent> for Progress {
    fn on_step(&mut self, e: &SweepEvent) -> Control {
        self.set((e.sweeps * e.temperatures) as u64);
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}

impl<'a, S> Observer<thermolab::drivers::tempering::TemperingEvent<'a, S>> for Progress {
    fn on_step(&mut self, e: &thermolab::drivers::tempering::TemperingEvent<'a, S>) -> Control {
        let phase = if e.warmup { "warmup" } else { "rounds" };
        if let Some(j) = self.json.as_mut() {
            if j.phase != Some(phase) {
                j.phase = Some(phase);
                j.last = None;
            }
        }
        self.tick(|| format!("round {}", e.round));
        Control::Continue
    }
}

impl Observer<thermolab::drivers::evidence::EvidenceEvent> for Progress {
    fn on_step(&mut self, e: &thermolab::drivers::evidence::EvidenceEvent) -> Control {
        if let Some(j) = self.json.as_mut() {
            j.total = e.total as u64;
        }
        if let Some(b) = &self.bar {
            b.set_length(e.total as u64);
            b.set_message(e.stage);
        }
        self.set_phase(e.stage, e.done as u64);
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}

impl Observer<thermolab::drivers::ais::AisEvent> for Progress {
    fn on_step(&mut self, e: &thermolab::drivers::ais::AisEvent) -> Control {
        if let Some(j) = self.json.as_mut() {
            j.total = e.steps as u64;
        }
        self.set(e.step as u64);
        Control::Continue
    }
    fn on_finish(&mut self, _t: Termination) {
        self.done()
    }
}
