//! The sizes of image layers: what `model!` computes at compile time and the layers check
//! once at construction. Both go through `staticnn_geometry` (PyTorch's formulas, checked
//! arithmetic), so the macro and the runtime can never disagree.

pub use staticnn_geometry::{SizeError, Window};

/// A geometry whose widths are not the ones the type says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("the geometry takes {geometry} values per sample but the type says {declared}")]
    Input { geometry: usize, declared: usize },
    #[error("the geometry gives {geometry} values per sample but the type says {declared}")]
    Output { geometry: usize, declared: usize },
    #[error("{0}")]
    Size(#[from] SizeError),
    #[error("a channel count is zero")]
    Zero,
    #[error("{layer} has no dilation (PyTorch's takes none), got {dilation:?}")]
    Dilation {
        layer: &'static str,
        dilation: (usize, usize),
    },
}

/// `out = (in + 2·padding − dilation·(kernel − 1) − 1) / stride + 1`, PyTorch's formula;
/// `None` when the kernel does not fit or the sizes overflow.
pub fn out_size(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    Window {
        kernel,
        stride,
        padding,
        dilation,
        ceil_mode: false,
    }
    .out_size(input)
    .ok()
}

/// Checks that `[channels, h, w] → [out_channels, ho, wo]` matches the type's widths.
fn check_widths(
    (channels, h, w): (usize, usize, usize),
    (out_channels, ho, wo): (usize, usize, usize),
    input: usize,
    output: usize,
) -> Result<(), GeometryError> {
    if channels == 0 || out_channels == 0 {
        return Err(GeometryError::Zero);
    }
    let geometry_in = staticnn_geometry::volume(channels, h, w)?;
    if geometry_in != input {
        return Err(GeometryError::Input {
            geometry: geometry_in,
            declared: input,
        });
    }
    let geometry_out = staticnn_geometry::volume(out_channels, ho, wo)?;
    if geometry_out != output {
        return Err(GeometryError::Output {
            geometry: geometry_out,
            declared: output,
        });
    }
    Ok(())
}

/// Conv2d's sizes, PyTorch's names; pairs are (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub in_channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
}

impl Conv2dGeometry {
    /// A square kernel, stride 1, no padding, no dilation.
    pub fn new(
        in_channels: usize,
        height: usize,
        width: usize,
        out_channels: usize,
        kernel: usize,
    ) -> Self {
        Conv2dGeometry {
            in_channels,
            height,
            width,
            out_channels,
            kernel: (kernel, kernel),
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }
    pub fn stride(mut self, h: usize, w: usize) -> Self {
        self.stride = (h, w);
        self
    }
    pub fn padding(mut self, h: usize, w: usize) -> Self {
        self.padding = (h, w);
        self
    }
    pub fn dilation(mut self, h: usize, w: usize) -> Self {
        self.dilation = (h, w);
        self
    }

    /// The windows along height and width.
    pub fn windows(&self) -> (Window, Window) {
        let axis = |i: fn(&(usize, usize)) -> usize| Window {
            kernel: i(&self.kernel),
            stride: i(&self.stride),
            padding: i(&self.padding),
            dilation: i(&self.dilation),
            ceil_mode: false,
        };
        (axis(|p| p.0), axis(|p| p.1))
    }

    /// 0 for a geometry that `check` refuses.
    pub fn out_height(&self) -> usize {
        self.windows().0.out_size(self.height).unwrap_or(0)
    }
    /// 0 for a geometry that `check` refuses.
    pub fn out_width(&self) -> usize {
        self.windows().1.out_size(self.width).unwrap_or(0)
    }
    /// Values in one patch: `C_in·kh·kw`.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel.0 * self.kernel.1
    }

    pub fn check(&self, input: usize, output: usize) -> Result<(), GeometryError> {
        let (wh, ww) = self.windows();
        let (ho, wo) = (wh.out_size(self.height)?, ww.out_size(self.width)?);
        staticnn_geometry::volume(self.in_channels, self.kernel.0, self.kernel.1)?;
        check_widths(
            (self.in_channels, self.height, self.width),
            (self.out_channels, ho, wo),
            input,
            output,
        )
    }
}

/// A pooling window over `[C, H, W]`, PyTorch's parameters; pairs are (height, width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// Implicit padding on both sides: `-inf` for max, zeros for average.
    pub padding: (usize, usize),
    /// MaxPool2d only (AvgPool2d has none): the spacing between a window's cells.
    pub dilation: (usize, usize),
    /// Count a last, partial window instead of dropping it.
    pub ceil_mode: bool,
    /// AvgPool2d only: divide by the whole window, padding included (PyTorch's default), or
    /// by the cells inside the input.
    pub count_include_pad: bool,
}

impl PoolGeometry {
    /// Square window; the stride defaults to the kernel, as in PyTorch; no padding, floor mode.
    pub fn new(channels: usize, height: usize, width: usize, kernel: usize) -> Self {
        PoolGeometry {
            channels,
            height,
            width,
            kernel: (kernel, kernel),
            stride: (kernel, kernel),
            padding: (0, 0),
            dilation: (1, 1),
            ceil_mode: false,
            count_include_pad: true,
        }
    }
    pub fn stride(mut self, h: usize, w: usize) -> Self {
        self.stride = (h, w);
        self
    }
    pub fn padding(mut self, h: usize, w: usize) -> Self {
        self.padding = (h, w);
        self
    }
    pub fn dilation(mut self, h: usize, w: usize) -> Self {
        self.dilation = (h, w);
        self
    }
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// The windows along height and width.
    pub fn windows(&self) -> (Window, Window) {
        let axis = |i: fn(&(usize, usize)) -> usize| Window {
            kernel: i(&self.kernel),
            stride: i(&self.stride),
            padding: i(&self.padding),
            dilation: i(&self.dilation),
            ceil_mode: self.ceil_mode,
        };
        (axis(|p| p.0), axis(|p| p.1))
    }

    /// 0 for a geometry that `check` refuses.
    pub fn out_height(&self) -> usize {
        self.windows().0.pool_out_size(self.height).unwrap_or(0)
    }
    /// 0 for a geometry that `check` refuses.
    pub fn out_width(&self) -> usize {
        self.windows().1.pool_out_size(self.width).unwrap_or(0)
    }

    pub fn check(&self, input: usize, output: usize) -> Result<(), GeometryError> {
        let (wh, ww) = self.windows();
        let (ho, wo) = (
            wh.pool_out_size(self.height)?,
            ww.pool_out_size(self.width)?,
        );
        check_widths(
            (self.channels, self.height, self.width),
            (self.channels, ho, wo),
            input,
            output,
        )
    }
}
