//! Work done off the UI thread: a computation on its own thread whose result the UI polls
//! each frame (and tests wait for).

use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A value being computed on a background thread.
#[derive(Debug)]
pub struct Job<T> {
    rx: Option<Receiver<T>>,
    value: Option<T>,
    failed: bool,
}

impl<T: Send + 'static> Job<T> {
    /// Starts computing `f` on a new thread named `name`. When done, `ctx` (if any) is asked
    /// to repaint so that the result shows at once.
    pub fn spawn(
        name: &str,
        ctx: Option<egui::Context>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Self {
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // The receiver may be gone (a new range was selected): nothing to do then.
                let _ = tx.send(f());
                if let Some(ctx) = ctx {
                    ctx.request_repaint();
                }
            });
        Self {
            rx: Some(rx),
            value: None,
            failed: spawned.is_err(),
        }
    }

    /// A job that is already done.
    pub fn ready(value: T) -> Self {
        Self {
            rx: None,
            value: Some(value),
            failed: false,
        }
    }
}

impl<T> Job<T> {
    /// The result, if the thread has finished.
    pub fn poll(&mut self) -> Option<&T> {
        if self.value.is_none()
            && let Some(rx) = &self.rx
        {
            match rx.try_recv() {
                Ok(v) => {
                    self.value = Some(v);
                    self.rx = None;
                }
                Err(TryRecvError::Disconnected) => {
                    self.failed = true;
                    self.rx = None;
                }
                Err(TryRecvError::Empty) => {}
            }
        }
        self.value.as_ref()
    }

    /// The result, waiting for the thread to finish (`None` if it panicked).
    pub fn wait(&mut self) -> Option<&T> {
        if self.value.is_none()
            && let Some(rx) = self.rx.take()
        {
            match rx.recv() {
                Ok(v) => self.value = Some(v),
                Err(_) => self.failed = true,
            }
        }
        self.value.as_ref()
    }

    /// The result, if ready, without polling.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// Whether the computation failed (its thread panicked or could not start).
    pub fn failed(&self) -> bool {
        self.failed && self.value.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_pending_until_its_thread_finishes() {
        let (go, gate) = channel::<()>();
        let mut job = Job::spawn("test-job", None, move || {
            gate.recv().ok();
            42
        });
        assert_eq!(job.poll(), None);
        assert!(!job.failed());
        go.send(()).ok();
        assert_eq!(job.wait(), Some(&42));
        assert_eq!(job.poll(), Some(&42));
        assert_eq!(job.get(), Some(&42));
    }

    #[test]
    fn a_panicking_job_fails() {
        let mut job: Job<u32> = Job::spawn("test-panic", None, || panic!("boom"));
        assert_eq!(job.wait(), None);
        assert!(job.failed());
    }
}
