import { applyDiscount } from './cart.js';

export function checkout(cart, code) {
  const total = applyDiscount(cart, code);
  return { total };
}
