//! A request's items (spans or log records) on their way into a [`Batch`]: each
//! resource and scope checked once (a problem there rejects each of its items), each item
//! checked, the valid ones added with only the resources and scopes they need, the
//! rejected ones counted and the first few described for `partialSuccess`.

use std::fmt::Write as _;

use collector_decode::model::{Resource, Scope};

use super::validate::{Problem, Rules};
use super::{Prepared, Rejected};
use crate::store::Batch;

/// Rejected items named one by one in `partialSuccess.errorMessage`; the rest are
/// counted.
const NAMED_REJECTIONS: usize = 10;

/// What the intake needs of one kind of item.
pub trait Item {
    /// What one is called in messages ("span"; the plural adds an "s").
    const NOUN: &'static str;
    /// Checks it against every rule but its resource's and scope's.
    fn check(&self, rules: &Rules, now_unix_nanos: u64) -> Result<(), Problem>;
    /// How a message names it beside its number (`spanId 0af7…`).
    fn describe(&self) -> String;
    /// Adds it (valid) to `batch` under resource and scope indexes of the batch.
    fn add_to(&self, batch: &mut Batch, resource: u32, scope: u32);
    /// An empty batch with room for about `bytes` bytes of encodings and `items` of these.
    fn batch(bytes: usize, items: usize) -> Batch;
}

/// One request's intake.
pub struct Intake<'r> {
    rules: &'r Rules,
    now_unix_nanos: u64,
    batch: Batch,
    index: usize,
    rejected: Rejected,
    described: String,
}

impl<'r> Intake<'r> {
    /// Items go into `batch` if they pass `rules` at the clock `now_unix_nanos`.
    pub fn new(rules: &'r Rules, now_unix_nanos: u64, batch: Batch) -> Self {
        Intake {
            rules,
            now_unix_nanos,
            batch,
            index: 0,
            rejected: Rejected::default(),
            described: String::new(),
        }
    }

    /// Takes in one resource's items: `scopes` gives each scope, its schema URL and its
    /// items.
    pub fn resource<'i, 's: 'i, I: Item + 'i>(
        &mut self,
        resource: Option<&Resource<'_>>,
        schema_url: &str,
        scopes: impl IntoIterator<Item = (Option<&'i Scope<'s>>, &'i str, &'i [I])>,
    ) {
        let resource_problem = self
            .rules
            .check_resource(resource.unwrap_or(&Resource::default()), schema_url)
            .err();
        let mut resource_index = None;
        for (scope, scope_schema_url, items) in scopes {
            let scope_problem = self
                .rules
                .check_scope(scope.unwrap_or(&Scope::default()), scope_schema_url)
                .err();
            let mut scope_index = None;
            for item in items {
                let verdict = match (&resource_problem, &scope_problem) {
                    (Some(problem), _) | (None, Some(problem)) => Err(problem.clone()),
                    (None, None) => item.check(self.rules, self.now_unix_nanos),
                };
                match verdict {
                    Err(problem) => self.reject(item, &problem),
                    Ok(()) => {
                        let batch = &mut self.batch;
                        let r = *resource_index
                            .get_or_insert_with(|| batch.add_resource(resource, schema_url));
                        let s = *scope_index
                            .get_or_insert_with(|| batch.add_scope(scope, scope_schema_url));
                        item.add_to(batch, r, s);
                    }
                }
                self.index += 1;
            }
        }
    }

    fn reject<I: Item>(&mut self, item: &I, problem: &Problem) {
        self.rejected.add(problem.kind());
        if self.rejected.total() as usize > NAMED_REJECTIONS {
            return;
        }
        if !self.described.is_empty() {
            self.described.push_str("; ");
        }
        let _ = write!(
            self.described,
            "{} {} ({}): {problem}",
            I::NOUN,
            self.index,
            item.describe()
        );
    }

    /// The batch of valid items, and what was rejected (items numbered from 0 in
    /// request order).
    pub fn finish<I: Item>(self) -> Prepared {
        let mut message = String::new();
        let rejected = self.rejected.total();
        if rejected > 0 {
            let noun = I::NOUN;
            message = format!(
                "{rejected} of {} {noun}s rejected ({noun}s numbered from 0 in request order): {}",
                self.index, self.described
            );
            let unnamed = rejected.saturating_sub(NAMED_REJECTIONS as u64);
            if unnamed > 0 {
                let _ = write!(message, "; and {unnamed} more");
            }
        }
        Prepared {
            batch: self.batch,
            rejected: self.rejected,
            message,
        }
    }
}
