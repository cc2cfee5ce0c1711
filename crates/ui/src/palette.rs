//! Colours: goroutine states (waiting by reason), goroutine groups, P and thread activity,
//! for the dark and the light theme.

use egui::Color32;
use egui::ecolor::Hsva;
use goroscope_trace::GoState;

/// What a goroutine waits for, from its block reason (Go's `traceBlockReasonStrings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitKind {
    /// `sync`, `sync.(*Cond).Wait`: mutexes, wait groups, condition variables.
    Sync,
    /// `chan send`, `chan receive`, `select`, and their nil-channel forms.
    Chan,
    /// `network`: the network poller.
    Network,
    /// `sleep`: timers.
    Sleep,
    /// Waiting on the garbage collector (`GC mark assist wait for work`, `wait until GC
    /// ends`, …).
    Gc,
    /// `system goroutine wait`, `forever`, `synctest`, `preempted`, anything else.
    Other,
}

impl WaitKind {
    /// Every kind, in discriminant order.
    pub const ALL: [Self; 6] = [
        Self::Sync,
        Self::Chan,
        Self::Network,
        Self::Sleep,
        Self::Gc,
        Self::Other,
    ];

    /// The kind with discriminant `i` (`Other` if out of range).
    pub fn from_index(i: u32) -> Self {
        Self::ALL.get(i as usize).copied().unwrap_or(Self::Other)
    }

    /// The kind of a block reason.
    pub fn of(reason: &[u8]) -> Self {
        let has = |s: &[u8]| reason.windows(s.len()).any(|w| w == s);
        if reason.starts_with(b"sync") {
            Self::Sync
        } else if reason.starts_with(b"chan") || reason.starts_with(b"select") {
            Self::Chan
        } else if reason == b"network" {
            Self::Network
        } else if reason == b"sleep" {
            Self::Sleep
        } else if has(b"GC") {
            Self::Gc
        } else {
            Self::Other
        }
    }
}

/// The colours of one theme.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    /// Whether this is the dark theme's palette.
    pub dark: bool,
    /// Colours by P id (modulo the table size), computed once.
    procs: [Color32; TABLE],
    /// Colours for groups beyond the qualitative palette, by name hash.
    hashed: [Color32; TABLE],
}

/// Size of the precomputed colour tables.
const TABLE: usize = 64;

const fn rgb(r: u8, g: u8, b: u8) -> Color32 {
    Color32::from_rgb(r, g, b)
}

impl Palette {
    /// The palette for `visuals` (dark or light).
    pub fn for_visuals(visuals: &egui::Visuals) -> Self {
        Self::new(visuals.dark_mode)
    }

    /// The dark (`true`) or light palette.
    pub fn new(dark: bool) -> Self {
        let mut procs = [Color32::GRAY; TABLE];
        let mut hashed = [Color32::GRAY; TABLE];
        for (i, (p, h)) in procs.iter_mut().zip(&mut hashed).enumerate() {
            let hue = (i as f32 * 0.618_034).fract();
            *p = Hsva::new(hue, 0.45, if dark { 0.72 } else { 0.82 }, 1.0).into();
            let sat = 0.45 + (i % 5) as f32 * 0.07;
            *h = Hsva::new(hue, sat, if dark { 0.78 } else { 0.80 }, 1.0).into();
        }
        Self {
            dark,
            procs,
            hashed,
        }
    }

    /// A goroutine state's colour; waiting is coloured by what it waits for.
    pub fn state(&self, state: GoState, wait: WaitKind) -> Color32 {
        match state {
            GoState::Running => self.running(),
            GoState::Runnable => self.runnable(),
            GoState::Waiting => self.waiting(wait),
            GoState::Syscall => self.syscall(),
            GoState::Undetermined => self.undetermined(),
            GoState::NotExist => Color32::TRANSPARENT,
        }
    }

    /// Running.
    pub fn running(&self) -> Color32 {
        if self.dark {
            rgb(76, 175, 80)
        } else {
            rgb(56, 155, 60)
        }
    }

    /// Runnable (in a run queue).
    pub fn runnable(&self) -> Color32 {
        if self.dark {
            rgb(235, 175, 45)
        } else {
            rgb(235, 160, 20)
        }
    }

    /// Waiting for `kind`.
    pub fn waiting(&self, kind: WaitKind) -> Color32 {
        match kind {
            WaitKind::Sync => rgb(215, 75, 75),
            WaitKind::Chan => rgb(205, 105, 175),
            WaitKind::Network => rgb(70, 135, 220),
            WaitKind::Sleep => rgb(120, 135, 160),
            WaitKind::Gc => rgb(165, 115, 70),
            WaitKind::Other => rgb(150, 105, 110),
        }
    }

    /// In a syscall.
    pub fn syscall(&self) -> Color32 {
        rgb(150, 100, 225)
    }

    /// State not known yet.
    pub fn undetermined(&self) -> Color32 {
        if self.dark {
            rgb(70, 70, 70)
        } else {
            rgb(200, 200, 200)
        }
    }

    /// A goroutine group's colour: the busiest groups (by `rank`) get distinct colours from
    /// a qualitative palette, the rest a colour derived from the name.
    pub fn group(&self, rank: usize, name: &[u8]) -> Color32 {
        const QUALITATIVE: [Color32; 12] = [
            rgb(0x4e, 0x79, 0xa7),
            rgb(0xf2, 0x8e, 0x2b),
            rgb(0x76, 0xb7, 0xb2),
            rgb(0xe1, 0x57, 0x59),
            rgb(0x59, 0xa1, 0x4f),
            rgb(0xed, 0xc9, 0x48),
            rgb(0xff, 0x9d, 0xa7),
            rgb(0xa0, 0xcb, 0xe8),
            rgb(0xd3, 0x72, 0x95),
            rgb(0x8c, 0xd1, 0x7d),
            rgb(0xff, 0xbe, 0x7d),
            rgb(0x49, 0x98, 0x94),
        ];
        if let Some(&c) = QUALITATIVE.get(rank) {
            return c;
        }
        self.hashed[(name_hash(name) % TABLE as u64) as usize]
    }

    /// A GC worker running on a P; the GC lane's mark phases.
    pub fn gc(&self) -> Color32 {
        rgb(190, 120, 55)
    }

    /// A stop-the-world pause.
    pub fn stw(&self) -> Color32 {
        rgb(225, 55, 55)
    }

    /// A P running the scheduler (held, no goroutine).
    pub fn scheduler(&self) -> Color32 {
        if self.dark {
            rgb(105, 105, 105)
        } else {
            rgb(170, 170, 170)
        }
    }

    /// A thread or P's colour by P id (thread lanes show which P a thread held).
    pub fn proc(&self, p: i64) -> Color32 {
        self.procs[p.rem_euclid(TABLE as i64) as usize]
    }

    /// Lane background stripes.
    pub fn lane_bg(&self, odd: bool) -> Color32 {
        match (self.dark, odd) {
            (true, false) => rgb(30, 30, 32),
            (true, true) => rgb(36, 36, 39),
            (false, false) => rgb(250, 250, 250),
            (false, true) => rgb(241, 242, 244),
        }
    }

    /// The live-heap area of the heap plot.
    pub fn heap(&self) -> Color32 {
        rgb(95, 135, 185)
    }

    /// Section and group header background.
    pub fn header_bg(&self) -> Color32 {
        if self.dark {
            rgb(48, 50, 56)
        } else {
            rgb(225, 228, 234)
        }
    }

    /// Grid lines.
    pub fn grid(&self) -> Color32 {
        if self.dark {
            Color32::from_white_alpha(18)
        } else {
            Color32::from_black_alpha(22)
        }
    }

    /// The outline of the hovered or selected span.
    pub fn highlight(&self) -> Color32 {
        if self.dark {
            Color32::WHITE
        } else {
            Color32::BLACK
        }
    }

    /// Text drawn on top of a span of colour `bg`.
    pub fn text_on(bg: Color32) -> Color32 {
        let l = 0.299 * f32::from(bg.r()) + 0.587 * f32::from(bg.g()) + 0.114 * f32::from(bg.b());
        if l > 140.0 {
            rgb(20, 20, 20)
        } else {
            rgb(245, 245, 245)
        }
    }
}

/// A hash of a name (FNV-1a), for colours that do not change between runs.
pub fn name_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Mix the high bits down: names differing in their last byte get distant hues.
    h ^ (h >> 29) ^ (h >> 41)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map_to_kinds() {
        assert_eq!(WaitKind::of(b"sync"), WaitKind::Sync);
        assert_eq!(WaitKind::of(b"sync.(*Cond).Wait"), WaitKind::Sync);
        assert_eq!(WaitKind::of(b"chan receive"), WaitKind::Chan);
        assert_eq!(WaitKind::of(b"select"), WaitKind::Chan);
        assert_eq!(WaitKind::of(b"network"), WaitKind::Network);
        assert_eq!(WaitKind::of(b"sleep"), WaitKind::Sleep);
        assert_eq!(WaitKind::of(b"GC mark assist wait for work"), WaitKind::Gc);
        assert_eq!(WaitKind::of(b"forever"), WaitKind::Other);
    }

    #[test]
    fn group_colours_are_stable_and_distinct() {
        let p = Palette::new(true);
        assert_eq!(p.group(99, b"main.worker"), p.group(99, b"main.worker"));
        assert_ne!(p.group(99, b"main.worker"), p.group(99, b"main.leak"));
        assert_ne!(p.group(0, b"a"), p.group(1, b"a"));
    }
}
