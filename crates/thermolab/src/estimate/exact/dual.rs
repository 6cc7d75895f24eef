//! Second-order forward-mode dual numbers: a value with its first and second derivatives, so
//! `ln Z(K)` computed once yields the energy and heat capacity exactly (to rounding).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `(f, f′, f″)` with respect to one variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual2 {
    /// Value.
    pub v: f64,
    /// First derivative.
    pub d: f64,
    /// Second derivative.
    pub dd: f64,
}

impl Dual2 {
    /// The variable itself at `x` (derivative 1).
    pub fn var(x: f64) -> Self {
        Self {
            v: x,
            d: 1.0,
            dd: 0.0,
        }
    }
    /// A constant.
    pub fn cst(x: f64) -> Self {
        Self {
            v: x,
            d: 0.0,
            dd: 0.0,
        }
    }
    /// Applies a scalar function given its value and first two derivatives at `self.v`.
    pub fn chain(self, f: f64, f1: f64, f2: f64) -> Self {
        Self {
            v: f,
            d: f1 * self.d,
            dd: f2 * self.d * self.d + f1 * self.dd,
        }
    }
    /// `e^x`.
    pub fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e, e)
    }
    /// `ln x`.
    pub fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v, -1.0 / (self.v * self.v))
    }
    /// `sinh x`.
    pub fn sinh(self) -> Self {
        self.chain(self.v.sinh(), self.v.cosh(), self.v.sinh())
    }
    /// `cosh x`.
    pub fn cosh(self) -> Self {
        self.chain(self.v.cosh(), self.v.sinh(), self.v.cosh())
    }
    /// `tanh x`.
    pub fn tanh(self) -> Self {
        let t = self.v.tanh();
        self.chain(t, 1.0 - t * t, -2.0 * t * (1.0 - t * t))
    }
    /// `acosh x` (x > 1).
    pub fn acosh(self) -> Self {
        let x = self.v;
        let q = (x * x - 1.0).sqrt();
        self.chain(x.acosh(), 1.0 / q, -x / (q * q * q))
    }
    /// `ln(2 cosh x)`, stable for large |x|.
    pub fn ln_2cosh(self) -> Self {
        let a = self.v.abs();
        let t = self.v.tanh();
        self.chain(a + (-2.0 * a).exp().ln_1p(), t, 1.0 - t * t)
    }
    /// `ln(2 sinh x)` for x > 0, stable for large x.
    pub fn ln_2sinh(self) -> Self {
        let x = self.v;
        let c = 1.0 / x.tanh();
        self.chain(x + (-(-2.0 * x).exp()).ln_1p(), c, 1.0 - c * c)
    }
}

impl Add for Dual2 {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            v: self.v + o.v,
            d: self.d + o.d,
            dd: self.dd + o.dd,
        }
    }
}
impl Sub for Dual2 {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self {
            v: self.v - o.v,
            d: self.d - o.d,
            dd: self.dd - o.dd,
        }
    }
}
impl Neg for Dual2 {
    type Output = Self;
    fn neg(self) -> Self {
        Self {
            v: -self.v,
            d: -self.d,
            dd: -self.dd,
        }
    }
}
impl Mul for Dual2 {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Self {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
            dd: self.dd * o.v + 2.0 * self.d * o.d + self.v * o.dd,
        }
    }
}
impl Mul<f64> for Dual2 {
    type Output = Self;
    fn mul(self, c: f64) -> Self {
        Self {
            v: self.v * c,
            d: self.d * c,
            dd: self.dd * c,
        }
    }
}
impl Div for Dual2 {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let inv = o.chain(1.0 / o.v, -1.0 / (o.v * o.v), 2.0 / (o.v * o.v * o.v));
        self * inv
    }
}
