//! The output sizes of PyTorch's convolution and pooling windows, in one place.
//!
//! `model!` calls these at compile time to type every image layer, and the runtime layers call
//! them to check and walk their geometry, so the two can never disagree. A proc-macro crate
//! cannot export ordinary items and a `#[path]` include would break `cargo package`, hence
//! this tiny crate. It has no dependencies and every operation is checked: a size that does
//! not fit in `usize` is [`SizeError::Overflow`], never a wrap or a panic.

#![no_std]

use core::fmt;

/// Why a window does not give an output size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// A kernel, stride or dilation of zero.
    Zero,
    /// The dilated kernel spans more than the padded input.
    KernelTooLarge { span: usize, padded: usize },
    /// A pool's padding above half its kernel, which PyTorch refuses.
    PaddingTooLarge { padding: usize, kernel: usize },
    /// The arithmetic does not fit in a `usize`.
    Overflow,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::Zero => f.write_str("a kernel, stride or dilation is zero"),
            SizeError::KernelTooLarge { span, padded } => write!(
                f,
                "a kernel spanning {span} does not fit an input of {padded} (with padding)"
            ),
            SizeError::PaddingTooLarge { padding, kernel } => write!(
                f,
                "padding {padding} is more than half the kernel {kernel} (PyTorch's limit)"
            ),
            SizeError::Overflow => f.write_str("the sizes overflow usize"),
        }
    }
}

impl core::error::Error for SizeError {}

/// A window sliding along one axis, with PyTorch's parameter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    /// Pools only: count a last, partial window (PyTorch's `ceil_mode=True`).
    pub ceil_mode: bool,
}

impl Window {
    /// A kernel with stride 1, no padding, no dilation, floor mode.
    pub const fn new(kernel: usize) -> Self {
        Window {
            kernel,
            stride: 1,
            padding: 0,
            dilation: 1,
            ceil_mode: false,
        }
    }

    /// Input cells from the first to the last the kernel touches: `dilation·(kernel − 1) + 1`.
    pub const fn span(&self) -> Result<usize, SizeError> {
        if self.kernel == 0 || self.stride == 0 || self.dilation == 0 {
            return Err(SizeError::Zero);
        }
        match self.dilation.checked_mul(self.kernel - 1) {
            Some(s) => match s.checked_add(1) {
                Some(s) => Ok(s),
                None => Err(SizeError::Overflow),
            },
            None => Err(SizeError::Overflow),
        }
    }

    /// The output size over `input` cells: PyTorch's
    /// `(input + 2·padding − span) / stride + 1`, rounded down, or up with `ceil_mode` (where
    /// a last window must still start inside the input or its left padding).
    pub const fn out_size(&self, input: usize) -> Result<usize, SizeError> {
        let span = match self.span() {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        let padded = match self.padding.checked_mul(2) {
            Some(p) => match input.checked_add(p) {
                Some(p) => p,
                None => return Err(SizeError::Overflow),
            },
            None => return Err(SizeError::Overflow),
        };
        let Some(room) = padded.checked_sub(span) else {
            return Err(SizeError::KernelTooLarge { span, padded });
        };
        let steps = if self.ceil_mode {
            room.div_ceil(self.stride)
        } else {
            room / self.stride
        };
        // `steps ≤ room`, so neither of these overflows.
        let mut out = steps + 1;
        if self.ceil_mode && steps * self.stride >= input + self.padding {
            out -= 1;
        }
        Ok(out)
    }

    /// [`Window::out_size`] for a pool, which also refuses padding above half the kernel.
    pub const fn pool_out_size(&self, input: usize) -> Result<usize, SizeError> {
        if self.kernel != 0 && self.padding > self.kernel / 2 {
            return Err(SizeError::PaddingTooLarge {
                padding: self.padding,
                kernel: self.kernel,
            });
        }
        self.out_size(input)
    }
}

/// `a · b · c`, or `Overflow`: the flat width of a `[C, H, W]` image.
pub const fn volume(c: usize, h: usize, w: usize) -> Result<usize, SizeError> {
    match c.checked_mul(h) {
        Some(ch) => match ch.checked_mul(w) {
            Some(v) => Ok(v),
            None => Err(SizeError::Overflow),
        },
        None => Err(SizeError::Overflow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(kernel: usize, stride: usize, padding: usize, ceil_mode: bool) -> Window {
        Window {
            kernel,
            stride,
            padding,
            dilation: 1,
            ceil_mode,
        }
    }

    #[test]
    fn floor_and_ceil_as_pytorch() {
        // The textbook CIFAR net: 32 → 30 → 15 → 13 → 6.
        assert_eq!(Window::new(3).out_size(32), Ok(30));
        assert_eq!(pool(2, 2, 0, false).pool_out_size(30), Ok(15));
        assert_eq!(Window::new(3).out_size(15), Ok(13));
        assert_eq!(pool(2, 2, 0, false).pool_out_size(13), Ok(6));
        assert_eq!(pool(2, 2, 0, true).pool_out_size(13), Ok(7));
        // The last window would start in the right padding: dropped, as PyTorch does.
        assert_eq!(pool(2, 2, 1, true).pool_out_size(5), Ok(3));
        assert_eq!(pool(3, 2, 1, true).pool_out_size(6), Ok(4));
        assert_eq!(pool(3, 2, 1, false).pool_out_size(6), Ok(3));
        let dilated = Window {
            dilation: 2,
            ..pool(3, 1, 1, false)
        };
        assert_eq!(dilated.pool_out_size(7), Ok(5));
    }

    #[test]
    fn errors_instead_of_wrapping() {
        let huge = Window {
            padding: usize::MAX / 2 + 1,
            ..Window::new(3)
        };
        assert_eq!(huge.out_size(8), Err(SizeError::Overflow));
        assert_eq!(volume(1 << 32, 1 << 32, 1), Err(SizeError::Overflow));
        assert_eq!(
            Window::new(5).out_size(3),
            Err(SizeError::KernelTooLarge { span: 5, padded: 3 })
        );
        assert_eq!(
            pool(2, 2, 2, false).pool_out_size(8),
            Err(SizeError::PaddingTooLarge {
                padding: 2,
                kernel: 2
            })
        );
        assert_eq!(pool(0, 1, 0, false).out_size(3), Err(SizeError::Zero));
    }
}
