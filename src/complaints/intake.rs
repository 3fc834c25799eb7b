//! Group commit for complaint intake: one task owns the inserts, and whatever arrived while
//! the last `synchronous=FULL` commit was on its way to disk goes into the next one. Each
//! submitter waits for the commit that holds its complaint, so nobody is told "filed"
//! before the disk has it, and 64 citizens pressing "send" together cost a few fsyncs,
//! not 64.

use tokio::sync::{mpsc, oneshot};

use crate::store::{NewComplaint, Store, StoreError};

/// Most complaints in one transaction.
const MAX_BATCH: usize = 256;

/// Where a submitter hears how its complaint fared: (id, ticket), or why it was not
/// stored.
type Reply = oneshot::Sender<Result<(i64, String), StoreError>>;

/// The handle submitters use; cheap to clone.
#[derive(Debug, Clone)]
pub struct Intake {
    tx: mpsc::Sender<(NewComplaint, Reply)>,
}

impl Intake {
    /// Starts the committing task on the current runtime.
    pub fn start(store: Store) -> Intake {
        let (tx, mut rx) = mpsc::channel::<(NewComplaint, Reply)>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let rows: Vec<NewComplaint> = jobs.iter().map(|(c, _)| c.clone()).collect();
                match store.insert_complaints(&rows).await {
                    Ok(ids) => {
                        for ((_, reply), id) in jobs.into_iter().zip(ids) {
                            let _ = reply.send(Ok(id));
                        }
                    }
                    Err(e) if jobs.len() == 1 => {
                        let _ = jobs.pop().map(|(_, r)| r.send(Err(e)));
                    }
                    Err(_) => {
                        // One bad row must not sink its neighbours: retry each alone.
                        for (c, reply) in jobs {
                            let r = store
                                .insert_complaints(std::slice::from_ref(&c))
                                .await
                                .map(|mut v| v.remove(0));
                            let _ = reply.send(r);
                        }
                    }
                }
            }
        });
        Intake { tx }
    }

    /// Files one complaint; returns its (id, ticket) once committed to disk.
    pub async fn submit(&self, c: NewComplaint) -> Result<(i64, String), StoreError> {
        let (reply, wait) = oneshot::channel();
        let gone = || StoreError::Unavailable("complaint intake has stopped".into());
        self.tx.send((c, reply)).await.map_err(|_| gone())?;
        wait.await
            .map_err(|_| gone())?
            .map_err(|e| StoreError::Unavailable(format!("complaint not stored: {e}")))
    }
}
