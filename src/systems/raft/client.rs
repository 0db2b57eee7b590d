//! A Raft client: the workload's driver plus leader discovery.
//!
//! A client sends each attempt to the server it believes leads. A refusal that names
//! another leader is followed at once, within the same attempt (at most a few hops); a
//! refusal with no useful hint, or an attempt that times out, moves the client to the next
//! server, and the driver's retry policy decides what happens to the operation. A refused
//! write is never reported `failed` (definitely not applied): a server that led when an
//! earlier copy or hop arrived may have appended it; it is reported `timed_out` (unknown).

use super::{RaftCx, RaftMsg, RaftTimer, Refusal};
use crate::process::NodeId;
use crate::workload::idmap::IdMap;
use crate::workload::{ClientTimer, Driver, Request};

const MAX_REDIRECTS: u32 = 3;

#[derive(Clone, Debug)]
pub struct RaftClient {
    pub driver: Driver,
    servers: Vec<NodeId>,
    target: usize,
    /// Per request, its current attempt: the server it last went to, and the redirects
    /// followed so far.
    attempts: IdMap<Hops>,
}

/// Where the current attempt of a request is.
#[derive(Clone, Copy, Debug, Default)]
struct Hops {
    to: Option<NodeId>,
    redirects: u32,
}

impl RaftClient {
    pub fn new(driver: Driver, servers: Vec<NodeId>) -> Self {
        let target = driver.client().0 as usize % servers.len();
        RaftClient { driver, servers, target, attempts: Default::default() }
    }

    fn send(&mut self, cx: &mut impl RaftCx, req: Option<Request>) {
        if let Some(req) = req {
            self.uncertain_if_write(&req);
            let to = self.servers[self.target];
            self.attempts.insert(req.id, Hops { to: Some(to), redirects: 0 });
            cx.send(to, RaftMsg::Request(req));
        }
    }

    /// A write handed to any server may be appended by one that leads (or led when an
    /// earlier copy arrived), whatever refusals come back later: it can never be reported
    /// as definitely not applied.
    fn uncertain_if_write(&mut self, req: &Request) {
        if req.kind == crate::history::OpKind::Write {
            self.driver.mark_uncertain(req.id);
        }
    }

    fn rotate(&mut self) {
        self.target = (self.target + 1) % self.servers.len();
    }

    pub fn on_start(&mut self, cx: &mut impl RaftCx) {
        self.driver.start(&mut cx.scope(|m| m, RaftTimer::Client));
    }

    pub fn on_timer(&mut self, cx: &mut impl RaftCx, timer: RaftTimer) {
        let RaftTimer::Client(t) = timer else { return };
        if !self.driver.is_live(&t) {
            return;
        }
        if let ClientTimer::AttemptTimeout { req, .. } = t {
            // Move on only if the client still targets the server that did not answer: the
            // timeouts of a burst sent to a dead server come due one after another, after a
            // redirect has already found the leader, and must not rotate away from it.
            if self.attempts.remove(req).and_then(|h| h.to) == Some(self.servers[self.target]) {
                self.rotate();
            }
        }
        let req = self.driver.on_timer(&mut cx.scope(|m| m, RaftTimer::Client), t);
        self.send(cx, req);
    }

    pub fn on_message(&mut self, cx: &mut impl RaftCx, src: NodeId, msg: RaftMsg) {
        let RaftMsg::Reply { id, result } = msg else { return };
        match result {
            Ok(value) => self.driver.on_reply(&mut cx.scope(|m| m, RaftTimer::Client), id, Ok(value)),
            Err(Refusal::NotLeader(Some(leader))) if leader != src => {
                let hops = self.attempts.get_or_default(id);
                hops.redirects += 1;
                let redirects = hops.redirects;
                if let Some(pos) = self.servers.iter().position(|&s| s == leader) {
                    self.target = pos;
                }
                match (self.driver.pending_request(id), redirects <= MAX_REDIRECTS) {
                    (Some(req), true) => {
                        self.uncertain_if_write(&req);
                        self.attempts.get_or_default(id).to = Some(leader);
                        cx.send(leader, RaftMsg::Request(req))
                    }
                    (Some(_), false) => {
                        self.driver.on_reply(&mut cx.scope(|m| m, RaftTimer::Client), id, Err(()))
                    }
                    (None, _) => {}
                }
            }
            Err(Refusal::NotLeader(_)) => {
                if self.servers.get(self.target) == Some(&src) {
                    self.rotate();
                }
                self.driver.on_reply(&mut cx.scope(|m| m, RaftTimer::Client), id, Err(()));
            }
        }
        if self.driver.pending_request(id).is_none() {
            self.attempts.remove(id);
        }
    }
}
