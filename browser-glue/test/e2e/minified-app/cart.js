export function applyDiscount(cart, code) {
  if (code !== 'SAVE10') {
    throw new RangeError(`unknown discount code ${code}`);
  }
  return cart.total * 0.9;
}
