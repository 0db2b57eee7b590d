//! The general history read into each model's operations.
//!
//! A system records its non-register operations as [`GeneralOp`]s (a [`Call`] and the
//! [`Reply`] its client saw). Each model checks the calls it specifies:
//!
//! - [`cas_operations`]: `Read`, `Write` and `Cas`, for [`CasRegister`];
//! - [`list_operations`]: `Append` and `ReadList`, for [`ListAppend`];
//! - [`txn_operations`]: `Txn`, and a single `Read` or `Write` as a one-step transaction,
//!   for [`TxnKv`].
//!
//! Calls of other kinds are left out (a history may mix kinds on separate keys; mixing
//! them on one key is the system's to avoid). A read whose outcome is unknown constrains
//! nothing and is dropped, as in the register rules. A reply of the wrong kind for its call
//! (a `Cas` answered with a list) is a bug of the system that recorded it: an error naming
//! the operation.

use super::{
    CasInput, CasOutput, CasRegister, ListAppend, ListInput, ListOutput, ModelOp, TxnInput, TxnKv, TxnOutput,
};
use crate::history::{Call, GeneralOp, MicroOp, Operation, Reply};

/// Converts the operations `pick` accepts: `pick` maps a call and its reply (if known) to
/// the model's input and output, `None` to leave the call out, or an error message.
fn convert<I, O>(
    ops: &[GeneralOp],
    pick: impl Fn(&Call, Option<&Reply>) -> Result<Option<(I, Option<O>)>, String>,
) -> Result<Vec<Operation<I, O>>, String> {
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        assert!(op.complete.is_some() || op.output.is_none(), "an operation without completion has no reply");
        let picked = pick(&op.input, op.output.as_ref()).map_err(|e| format!("operation {i}: {e}"))?;
        if let Some((input, output)) = picked {
            out.push(Operation {
                client: op.client,
                input,
                output,
                invoke: op.invoke,
                complete: op.complete,
            });
        }
    }
    Ok(out)
}

fn mismatch(call: &Call, reply: &Reply) -> String {
    format!("{call:?} cannot be answered with {reply:?}")
}

/// Whether an unknown read is to be dropped: a read with no reply constrains nothing.
fn unknown_read(reply: Option<&Reply>) -> bool {
    reply.is_none()
}

/// The compare-and-set register's operations.
pub fn cas_operations(ops: &[GeneralOp]) -> Result<Vec<ModelOp<CasRegister>>, String> {
    convert(ops, |call, reply| {
        let input = match *call {
            Call::Read { .. } if unknown_read(reply) => return Ok(None),
            Call::Read { key } => CasInput::Read { key },
            Call::Write { key, value } => CasInput::Write { key, value },
            Call::Cas { key, expected, new } => CasInput::Cas { key, expected, new },
            _ => return Ok(None),
        };
        let output = match (call, reply) {
            (_, None) => None,
            (Call::Read { .. }, Some(Reply::Value(v))) => Some(CasOutput::Read(*v)),
            (Call::Write { .. }, Some(Reply::Done)) => Some(CasOutput::Written),
            (Call::Cas { .. }, Some(Reply::Swapped(b))) => Some(CasOutput::Cas(*b)),
            (call, Some(reply)) => return Err(mismatch(call, reply)),
        };
        Ok(Some((input, output)))
    })
}

/// The list-append model's operations.
pub fn list_operations(ops: &[GeneralOp]) -> Result<Vec<ModelOp<ListAppend>>, String> {
    convert(ops, |call, reply| {
        let input = match *call {
            Call::ReadList { .. } if unknown_read(reply) => return Ok(None),
            Call::ReadList { key } => ListInput::Read { key },
            Call::Append { key, value } => ListInput::Append { key, value },
            _ => return Ok(None),
        };
        let output = match (call, reply) {
            (_, None) => None,
            (Call::ReadList { .. }, Some(Reply::List(l))) => Some(ListOutput::Read(l.clone())),
            (Call::Append { .. }, Some(Reply::Done)) => Some(ListOutput::Appended),
            (call, Some(reply)) => return Err(mismatch(call, reply)),
        };
        Ok(Some((input, output)))
    })
}

/// The transactional store's operations (single reads and writes as one-step transactions).
pub fn txn_operations(ops: &[GeneralOp]) -> Result<Vec<ModelOp<TxnKv>>, String> {
    convert(ops, |call, reply| {
        let steps = match call {
            Call::Read { .. } if unknown_read(reply) => return Ok(None),
            Call::Read { key } => vec![MicroOp::Read { key: *key }],
            Call::Write { key, value } => vec![MicroOp::Write { key: *key, value: *value }],
            Call::Txn(steps) => steps.clone(),
            _ => return Ok(None),
        };
        let reads = steps.iter().filter(|m| matches!(m, MicroOp::Read { .. })).count();
        let output = match (call, reply) {
            (_, None) => None,
            (Call::Read { .. }, Some(Reply::Value(v))) => Some(TxnOutput { reads: vec![*v] }),
            (Call::Write { .. }, Some(Reply::Done)) => Some(TxnOutput { reads: Vec::new() }),
            (Call::Txn(_), Some(Reply::Reads(r))) if r.len() == reads => Some(TxnOutput { reads: r.clone() }),
            (call, Some(reply)) => return Err(mismatch(call, reply)),
        };
        Ok(Some((TxnInput { ops: steps }, output)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{check, Config, Verdict};
    use crate::history::ClientId;
    use crate::sim::SimTime;

    fn op(client: u32, call: Call, reply: Option<Reply>, invoke: u64, complete: Option<u64>) -> GeneralOp {
        Operation {
            client: ClientId(client),
            input: call,
            output: reply,
            invoke: SimTime(invoke),
            complete: complete.map(SimTime),
        }
    }

    fn linearizable(v: &Verdict) -> bool {
        matches!(v, Verdict::Linearizable)
    }

    #[test]
    fn compare_and_set_histories_are_read_from_the_general_history() {
        // Two CASes from 1 to 2 that both claim success: only one can.
        let mut h = vec![
            op(0, Call::Write { key: 7, value: 1 }, Some(Reply::Done), 0, Some(10)),
            op(1, Call::Cas { key: 7, expected: 1, new: 2 }, Some(Reply::Swapped(true)), 20, Some(30)),
            op(2, Call::Cas { key: 7, expected: 1, new: 3 }, Some(Reply::Swapped(true)), 40, Some(50)),
            op(3, Call::Append { key: 9, value: 1 }, Some(Reply::Done), 0, Some(5)), // not a CAS call
        ];
        let cas = cas_operations(&h).expect("replies fit their calls");
        assert_eq!(cas.len(), 3, "the append is left out");
        assert!(!linearizable(&check(&CasRegister, &cas, &Config::default()).verdict));
        h[2].output = Some(Reply::Swapped(false));
        let cas = cas_operations(&h).expect("replies fit their calls");
        assert!(linearizable(&check(&CasRegister, &cas, &Config::default()).verdict));
    }

    #[test]
    fn list_histories_are_read_from_the_general_history() {
        let h = vec![
            op(0, Call::Append { key: 1, value: 10 }, Some(Reply::Done), 0, Some(10)),
            op(1, Call::Append { key: 1, value: 11 }, None, 5, None), // timed out: may apply
            op(2, Call::ReadList { key: 1 }, Some(Reply::List(vec![10, 11])), 20, Some(30)),
            op(3, Call::ReadList { key: 1 }, None, 20, None), // unknown read: dropped
        ];
        let lists = list_operations(&h).expect("replies fit their calls");
        assert_eq!(lists.len(), 3);
        assert!(linearizable(&check(&ListAppend, &lists, &Config::default()).verdict));
        // A later read that lost the acknowledged append.
        let mut lost = h.clone();
        lost.push(op(4, Call::ReadList { key: 1 }, Some(Reply::List(vec![11])), 40, Some(50)));
        let lists = list_operations(&lost).expect("replies fit their calls");
        assert!(!linearizable(&check(&ListAppend, &lists, &Config::default()).verdict));
    }

    #[test]
    fn transactions_and_single_operations_are_read_as_transactions() {
        // A lost update: two transactions read 0 and both write 1 + what they read.
        let rw = |v| Call::Txn(vec![MicroOp::Read { key: 1 }, MicroOp::Write { key: 1, value: v }]);
        let h = vec![
            op(0, Call::Write { key: 1, value: 0 }, Some(Reply::Done), 0, Some(5)),
            op(1, rw(1), Some(Reply::Reads(vec![Some(0)])), 10, Some(30)),
            op(2, rw(2), Some(Reply::Reads(vec![Some(0)])), 10, Some(30)),
            op(3, Call::Read { key: 1 }, Some(Reply::Value(Some(2))), 40, Some(50)),
        ];
        let txns = txn_operations(&h).expect("replies fit their calls");
        assert_eq!(txns.len(), 4);
        assert!(!linearizable(&check(&TxnKv, &txns, &Config::default()).verdict));
    }

    #[test]
    fn a_reply_of_the_wrong_kind_is_an_error_naming_the_operation() {
        let h = vec![op(0, Call::Cas { key: 1, expected: 1, new: 2 }, Some(Reply::List(vec![])), 0, Some(1))];
        let err = cas_operations(&h).expect_err("a CAS is not answered with a list");
        assert!(err.starts_with("operation 0: Cas"), "{err}");
        let h =
            vec![op(0, Call::Txn(vec![MicroOp::Read { key: 1 }]), Some(Reply::Reads(vec![])), 0, Some(1))];
        assert!(txn_operations(&h).is_err(), "one read, no value");
    }
}
