//! What a long action is doing while it runs (`apt: unpacking mariadb-server (31%)`),
//! from deep inside it to the run's display, without threading the observer through
//! every action: while the engine applies a step on a node, that node's thread knows
//! where to send it ([`during`]); [`report`] anywhere below sends it there. Outside a
//! step (or with a display that does not show activities) [`report`] does nothing.

use std::cell::RefCell;
use std::sync::Arc;

/// Shows a running step's activity (the run's display; see [`super::Observer::activity_sink`]).
pub trait ActivitySink: Send + Sync {
    /// `node`'s step `step` is doing `text` now.
    fn activity(&self, node: &str, step: &str, text: &str);
}

struct Current {
    sink: Arc<dyn ActivitySink>,
    node: String,
    step: String,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Say what the running step is doing on this thread's node (nothing outside a step).
pub fn report(text: &str) {
    CURRENT.with(|c| {
        if let Some(cur) = &*c.borrow() {
            cur.sink.activity(&cur.node, &cur.step, text);
        }
    });
}

/// Run `f` (a step's actions on `node`) with its activities going to `sink`.
pub(crate) fn during<T>(
    sink: Option<Arc<dyn ActivitySink>>,
    node: &str,
    step: &str,
    f: impl FnOnce() -> T,
) -> T {
    /// Forgets the sink when the step ends, also when it panics.
    struct Reset(Option<Current>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let current = sink.map(|sink| Current {
        sink,
        node: node.to_string(),
        step: step.to_string(),
    });
    let previous = CURRENT.with(|c| c.replace(current));
    let _reset = Reset(previous);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);
    impl ActivitySink for Seen {
        fn activity(&self, node: &str, step: &str, text: &str) {
            self.0.lock().unwrap().push(format!("{node} {step} {text}"));
        }
    }

    #[test]
    fn activities_reach_the_sink_only_during_the_step_and_only_on_its_thread() {
        let seen = Arc::new(Seen::default());
        report("before");
        during(Some(seen.clone()), "node-a", "install-packages", || {
            report("apt: unpacking x (10%)");
            std::thread::spawn(|| report("another thread"))
                .join()
                .unwrap();
        });
        report("after");
        assert_eq!(
            *seen.0.lock().unwrap(),
            ["node-a install-packages apt: unpacking x (10%)"]
        );
    }
}
