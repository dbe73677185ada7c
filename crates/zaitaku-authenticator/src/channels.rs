//! The worker thread's ends of its two channels to the window: events out,
//! controls (PIN, cancel) in, and how to wake the window to draw an event.

use crate::model::{Control, WorkerEvent};
use std::sync::mpsc::{Receiver, Sender};

/// The worker's ends of the two channels, and how to wake the window.
pub struct Channels {
    pub events: Sender<WorkerEvent>,
    pub control: Receiver<Control>,
    pub wake: Box<dyn Fn() + Send>,
}

impl Channels {
    pub fn send(&self, event: WorkerEvent) {
        // A closed window no longer listens; the worker ends at its next wait.
        let _ = self.events.send(event);
        (self.wake)();
    }
}
