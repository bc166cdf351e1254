// React is a peer dependency of the `react` entry only: the two hooks it uses, typed here
// so that building the SDK does not need React installed.
declare module 'react' {
  export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
  export function useRef<T>(initial: T): { current: T };
}
