import { float16BitsToNumber } from '../../../guards/onnx/float16';
import { sigmoid, softmax } from '../../../guards/onnx/probabilities';

describe('softmax', () => {
  it('matches the closed form', () => {
    const p = softmax([5, 0, 0]);
    expect(p[0]).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 2), 10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('divides logits by the temperature first (Meta used T = 3 once)', () => {
    expect(softmax([5, -5, 10], 3)[2]).toBeCloseTo(Math.exp(10 / 3) / (Math.exp(5 / 3) + Math.exp(-5 / 3) + Math.exp(10 / 3)), 10);
  });

  it('is stable for huge logits and rejects a non-positive temperature', () => {
    expect(softmax([1000, 0])).toEqual([1, 0]);
    expect(() => softmax([1, 2], 0)).toThrow(/temperature/);
  });
});

describe('sigmoid', () => {
  it('is 0.5 at 0, symmetric, and never NaN', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2) + sigmoid(-2)).toBeCloseTo(1, 12);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
});

describe('float16', () => {
  it('widens half-precision bits', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0x0001)).toBeCloseTo(5.96e-8, 10);
  });
});
