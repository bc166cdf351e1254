//! The guest's work, without tracing: a fixed catalogue of products and coupons, and the
//! arithmetic of a quote.

/// A product of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    /// Its stock-keeping unit, as carts name it.
    pub sku: &'static str,
    /// Its display name.
    pub name: &'static str,
    /// The price of one, in cents.
    pub unit_price_cents: u64,
}

/// Every product the guest sells.
pub const CATALOGUE: &[Product] = &[
    Product {
        sku: "TEA-GREEN-100",
        name: "Green tea, 100 g",
        unit_price_cents: 650,
    },
    Product {
        sku: "TEA-BLACK-250",
        name: "Black tea, 250 g",
        unit_price_cents: 1_190,
    },
    Product {
        sku: "POT-CAST-IRON",
        name: "Cast-iron teapot",
        unit_price_cents: 4_900,
    },
    Product {
        sku: "CUP-PORCELAIN",
        name: "Porcelain cup",
        unit_price_cents: 1_250,
    },
];

/// A coupon: a percentage off the subtotal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coupon {
    /// What the customer types.
    pub code: &'static str,
    /// Percent off, 1-100.
    pub percent_off: u8,
}

/// Every coupon the guest accepts.
pub const COUPONS: &[Coupon] = &[
    Coupon {
        code: "WELCOME10",
        percent_off: 10,
    },
    Coupon {
        code: "TEATIME25",
        percent_off: 25,
    },
];

/// The product with `sku`, if the catalogue has it.
pub fn product(sku: &str) -> Option<&'static Product> {
    CATALOGUE.iter().find(|product| product.sku == sku)
}

/// The coupon with `code` (case-insensitive, surrounding spaces ignored), if it exists.
pub fn coupon(code: &str) -> Option<&'static Coupon> {
    let code = code.trim();
    COUPONS
        .iter()
        .find(|coupon| coupon.code.eq_ignore_ascii_case(code))
}

/// Why a line cannot be priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    /// The catalogue has no such product.
    UnknownSku,
    /// A line must order at least one.
    ZeroQuantity,
    /// The price does not fit in 64 bits.
    Overflow,
}

impl LineError {
    /// A short description, for span statuses and the caller.
    pub fn describe(self) -> &'static str {
        match self {
            LineError::UnknownSku => "unknown SKU",
            LineError::ZeroQuantity => "quantity must be at least 1",
            LineError::Overflow => "price overflows",
        }
    }
}

/// What `quantity` of `product` cost, in cents.
pub fn line_total(product: &Product, quantity: u32) -> Result<u64, LineError> {
    if quantity == 0 {
        return Err(LineError::ZeroQuantity);
    }
    product
        .unit_price_cents
        .checked_mul(u64::from(quantity))
        .ok_or(LineError::Overflow)
}

/// What `coupon` takes off `subtotal_cents`, rounded down to the cent.
pub fn discount(subtotal_cents: u64, coupon: &Coupon) -> u64 {
    let percent = u128::from(coupon.percent_off.min(100));
    // At most the subtotal itself, so the narrowing cannot fail.
    u64::try_from(u128::from(subtotal_cents) * percent / 100).unwrap_or(subtotal_cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_found_by_exact_sku() {
        assert_eq!(
            product("POT-CAST-IRON").map(|p| p.unit_price_cents),
            Some(4_900)
        );
        assert_eq!(product("pot-cast-iron"), None);
        assert_eq!(product(""), None);
    }

    #[test]
    fn coupons_ignore_case_and_surrounding_spaces() {
        assert_eq!(coupon(" welcome10 ").map(|c| c.percent_off), Some(10));
        assert_eq!(coupon("WELCOME"), None);
    }

    #[test]
    fn line_totals_refuse_zero_quantities_and_overflow() {
        let tea = product("TEA-GREEN-100").expect("in the catalogue");
        assert_eq!(line_total(tea, 3), Ok(1_950));
        assert_eq!(line_total(tea, 0), Err(LineError::ZeroQuantity));
        let priceless = Product {
            unit_price_cents: u64::MAX,
            ..*tea
        };
        assert_eq!(line_total(&priceless, 2), Err(LineError::Overflow));
    }

    #[test]
    fn discounts_round_down_and_never_exceed_the_subtotal() {
        let ten = coupon("WELCOME10").expect("known");
        assert_eq!(discount(1_999, ten), 199);
        assert_eq!(discount(u64::MAX, ten), u64::MAX / 10);
        let all = Coupon {
            code: "ALL",
            percent_off: 200,
        };
        assert_eq!(discount(u64::MAX, &all), u64::MAX);
    }

    #[test]
    fn every_sku_and_code_is_unique() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE[i + 1..].iter().all(|b| b.sku != a.sku),
                "{}",
                a.sku
            );
        }
        for (i, a) in COUPONS.iter().enumerate() {
            assert!(
                COUPONS[i + 1..].iter().all(|b| b.code != a.code),
                "{}",
                a.code
            );
        }
    }
}
