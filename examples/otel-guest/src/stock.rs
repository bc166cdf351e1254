//! The guest's own work: a warehouse table and reservations against it. Plain Rust,
//! without tracing.

use std::collections::BTreeMap;

/// A product the warehouse stocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Units on hand.
    pub on_hand: u32,
    /// Below this many units left, the item is low on stock.
    pub reorder_level: u32,
    /// Weight of one unit, in kilograms.
    pub unit_weight_kg: f64,
    /// The warehouses that hold it.
    pub warehouses: &'static [&'static str],
    /// Where in the main warehouse it is.
    pub location: &'static [(&'static str, &'static str)],
}

/// Why a reservation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The table has no such SKU.
    UnknownSku,
    /// A quantity of zero.
    ZeroQuantity,
    /// Fewer units on hand than asked for.
    Insufficient,
}

impl Refusal {
    /// The reason in words.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::UnknownSku => "unknown SKU",
            Refusal::ZeroQuantity => "quantity must be at least 1",
            Refusal::Insufficient => "not enough stock",
        }
    }
}

/// The warehouse table: stock by SKU.
#[derive(Clone, Debug)]
pub struct Warehouse(BTreeMap<&'static str, Item>);

impl Default for Warehouse {
    /// The example's initial stock.
    fn default() -> Self {
        Warehouse(BTreeMap::from([
            (
                "TEA-BLACK-250",
                Item {
                    on_hand: 40,
                    reorder_level: 10,
                    unit_weight_kg: 0.25,
                    warehouses: &["lyon", "porto"],
                    location: &[("aisle", "A3"), ("bay", "12")],
                },
            ),
            (
                "CUP-PORCELAIN",
                Item {
                    on_hand: 6,
                    reorder_level: 5,
                    unit_weight_kg: 0.3,
                    warehouses: &["lyon"],
                    location: &[("aisle", "C1"), ("bay", "4")],
                },
            ),
        ]))
    }
}

impl Warehouse {
    /// The item stocked under `sku`.
    pub fn item(&self, sku: &str) -> Option<&Item> {
        self.0.get(sku)
    }

    /// Takes `quantity` units of `sku`; returns how many are left.
    pub fn reserve(&mut self, sku: &str, quantity: u32) -> Result<u32, Refusal> {
        if quantity == 0 {
            return Err(Refusal::ZeroQuantity);
        }
        let item = self.0.get_mut(sku).ok_or(Refusal::UnknownSku)?;
        item.on_hand = item
            .on_hand
            .checked_sub(quantity)
            .ok_or(Refusal::Insufficient)?;
        Ok(item.on_hand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_take_stock_until_there_is_too_little() {
        let mut warehouse = Warehouse::default();
        assert_eq!(warehouse.reserve("CUP-PORCELAIN", 4), Ok(2));
        assert_eq!(
            warehouse.reserve("CUP-PORCELAIN", 3),
            Err(Refusal::Insufficient)
        );
        assert_eq!(warehouse.item("CUP-PORCELAIN").unwrap().on_hand, 2);
        assert_eq!(
            warehouse.reserve("CUP-PORCELAIN", 0),
            Err(Refusal::ZeroQuantity)
        );
        assert_eq!(warehouse.reserve("NOPE", 1), Err(Refusal::UnknownSku));
    }
}
