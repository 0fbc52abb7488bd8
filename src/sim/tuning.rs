//! Per-node and per-link settings a script can change: a node's [`Config`], its
//! clock, and one directed link's delay or loss.

use alloc::collections::BTreeMap;
use core::time::Duration;

use super::PPM;
use super::clock::Clock;
use super::engine::Simulation;
use super::options::{Delay, SimOptions, nanos};
use crate::{Config, ConfigError, Instant, Term};

/// What the script set per node, beyond the options.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    /// Configurations used instead of [`SimOptions::config`] at the next (re)start.
    pub(crate) configs: BTreeMap<u64, Config>,
    /// Clocks used instead of a random one when the node is created.
    pub(crate) clocks: BTreeMap<u64, Clock>,
    /// Freshness set for a node before it was created (applied at its start).
    pub(crate) freshness: BTreeMap<u64, crate::Freshness>,
}

impl SimOptions {
    /// Builds the simulation, running `setup` on it **before** the initial nodes
    /// start: the place for per-node settings that must hold from time zero
    /// ([`Simulation::set_config`], [`Simulation::set_clock`]), or anything else
    /// (links, scheduled actions).
    ///
    /// ```
    /// use ballot::Config;
    /// use ballot::sim::SimOptions;
    /// use core::time::Duration;
    ///
    /// // Node 3 runs with PreVote off, as in a mixed-version rollout.
    /// let mut sim = SimOptions::new(1).nodes(3).build_with(|sim| {
    ///     sim.set_config(3, Config::default().with_pre_vote(false)).unwrap();
    /// });
    /// assert!(!sim.node(3).unwrap().config().pre_vote);
    /// assert!(sim.run_until(|s| s.stable_leader().is_some(), Duration::from_secs(5)));
    /// ```
    ///
    /// # Panics
    ///
    /// If the configuration template is invalid (see [`Simulation::try_new_with`]).
    pub fn build_with(self, setup: impl FnOnce(&mut Simulation)) -> Simulation {
        match Simulation::try_new_with(self, setup) {
            Ok(sim) => sim,
            Err(e) => panic!("invalid simulation options: {e}"),
        }
    }
}

impl Simulation {
    /// Makes `node` run `config` instead of [`SimOptions::config`] from its next
    /// start or restart on (a running node keeps its configuration until it
    /// restarts: crash and restart it to apply at once; to have it from time zero,
    /// call this in [`SimOptions::build_with`]). As with the template, the seed is
    /// replaced by one derived from the simulation's seed, so runs stay
    /// reproducible. Returns the configuration's error if it is invalid.
    pub fn set_config(&mut self, node: u64, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        self.tracer.mix(0xd0 ^ node);
        self.overrides.configs.insert(node, config);
        self.note(format_args!("n{node} will run {config:?}"));
        Ok(())
    }

    /// Undoes [`Simulation::set_config`]: `node` runs the template again from its
    /// next (re)start.
    pub fn clear_config(&mut self, node: u64) {
        self.tracer.mix(0xd1 ^ node);
        self.overrides.configs.remove(&node);
    }

    /// The configuration `node` gets at its next (re)start (before its seed is
    /// derived): its override, or the template.
    pub fn config_of(&self, node: u64) -> Config {
        self.overrides
            .configs
            .get(&node)
            .copied()
            .unwrap_or(self.options.config)
    }

    /// Sets `node`'s clock: its local time at global time `t` becomes
    /// `offset + t × (1 + drift_ppm / 10⁶)` (drift capped at ±50 %), replacing the
    /// random [`ClockSkew`](super::ClockSkew) draw. For a node not started yet it
    /// holds from its start (call it in [`SimOptions::build_with`] for the initial
    /// nodes); for a started node it takes effect now and survives restarts. If that
    /// moves a running node's local time backwards, the node sees its clock stand
    /// still until it catches up (the core clamps a `now` that goes back and counts
    /// it in its stats).
    pub fn set_clock(&mut self, node: u64, offset: Duration, drift_ppm: i32) {
        self.tracer
            .mix(0xd2 ^ node ^ nanos(offset).rotate_left(16) ^ u64::from(drift_ppm as u32));
        let clock = Clock::new(nanos(offset), drift_ppm);
        self.overrides.clocks.insert(node, clock);
        if let Some(slot) = self.nodes.get_mut(node as usize).filter(|s| s.exists) {
            slot.clock = clock;
            self.schedule_wake(node as usize, self.now);
        }
        self.note(format_args!(
            "n{node} clock: offset {offset:?}, drift {drift_ppm} ppm"
        ));
    }

    /// Node `id`'s local time now (up or crashed), if it was ever started.
    pub fn local_time(&self, id: u64) -> Option<Instant> {
        let slot = self.nodes.get(id as usize).filter(|s| s.exists)?;
        Some(slot.clock.local(self.now))
    }

    /// Gives the directed link `from → to` its own delay distribution (a slow or
    /// jittery link), instead of [`SimOptions::delay`]. Applies to messages sent
    /// from now on; [`Simulation::heal_all`] keeps it.
    pub fn set_link_delay(&mut self, from: u64, to: u64, delay: Delay) {
        self.tracer
            .mix(0xd3 ^ from ^ to.rotate_left(32) ^ delay.max_nanos().rotate_left(8));
        self.net.set_link(from, to, |l| l.delay = Some(delay));
        self.note(format_args!("n{from} -> n{to} delay {delay}"));
    }

    /// Gives both directions between `a` and `b` the delay `delay`.
    pub fn set_link_delay_both(&mut self, a: u64, b: u64, delay: Delay) {
        self.set_link_delay(a, b, delay);
        self.set_link_delay(b, a, delay);
    }

    /// Undoes [`Simulation::set_link_delay`] for `from → to`.
    pub fn clear_link_delay(&mut self, from: u64, to: u64) {
        self.tracer.mix(0xd4 ^ from ^ to.rotate_left(32));
        self.net.set_link(from, to, |l| l.delay = None);
        self.note(format_args!("n{from} -> n{to} delay back to default"));
    }

    /// Gives the directed link `from → to` its own loss probability (parts per
    /// million; `None` goes back to [`SimOptions::loss_ppm`]). Applies to messages
    /// sent from now on. [`Simulation::heal_and_check_liveness`] clears it.
    pub fn set_link_loss(&mut self, from: u64, to: u64, ppm: Option<u32>) {
        let ppm = ppm.map(|p| p.min(PPM));
        self.tracer
            .mix(0xd5 ^ from ^ to.rotate_left(32) ^ u64::from(ppm.unwrap_or(u32::MAX)) << 8);
        self.net.set_link(from, to, |l| l.loss_ppm = ppm);
        self.note(format_args!("n{from} -> n{to} loss {ppm:?} ppm"));
    }

    /// Node `id`'s current term, if it is up.
    pub fn term(&self, id: u64) -> Option<Term> {
        self.node(id).map(crate::Election::term)
    }

    /// Runs until some leader is [stable](Simulation::stable_leader) or `within`
    /// has passed, and returns it.
    pub fn run_until_stable_leader(&mut self, within: Duration) -> Option<u64> {
        self.run_until(|s| s.stable_leader().is_some(), within);
        self.stable_leader()
    }
}
