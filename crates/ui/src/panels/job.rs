//! Work done off the UI thread: a computation on its own thread whose result the UI polls
//! each frame (and tests wait for). Dropping a job asks its computation to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A value being computed on a background thread.
#[derive(Debug)]
pub struct Job<T> {
    rx: Option<Receiver<T>>,
    value: Option<T>,
    failed: bool,
    cancel: Arc<AtomicBool>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts computing `f` on a new thread named `name`. When done, `ctx` (if any) is asked
    /// to repaint so that the result shows at once.
    pub fn spawn(
        name: &str,
        ctx: Option<egui::Context>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Self {
        Self::spawn_cancellable(name, ctx, move |_| f())
    }

    /// Like [`Job::spawn`], for computations that stop early (with any result: it is not
    /// used) once their flag is set, which dropping the job does.
    pub fn spawn_cancellable(
        name: &str,
        ctx: Option<egui::Context>,
        f: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    ) -> Self {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let v = f(&flag);
                // The receiver may be gone (a new range was selected): nothing to do then.
                if !flag.load(Ordering::Relaxed)
                    && tx.send(v).is_ok()
                    && let Some(ctx) = ctx
                {
                    ctx.request_repaint();
                }
            });
        Self {
            rx: Some(rx),
            value: None,
            failed: spawned.is_err(),
            cancel,
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
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

    #[test]
    fn dropping_a_job_cancels_it() {
        let (started, running) = channel::<()>();
        let (stopped, done) = channel::<bool>();
        let job: Job<()> = Job::spawn_cancellable("test-cancel", None, move |cancel| {
            started.send(()).ok();
            let t = std::time::Instant::now();
            while !cancel.load(Ordering::Relaxed) && t.elapsed().as_secs() < 10 {
                std::thread::yield_now();
            }
            stopped.send(cancel.load(Ordering::Relaxed)).ok();
        });
        running.recv().ok();
        drop(job);
        assert_eq!(done.recv().ok(), Some(true));
    }
}
