//! The sizes of image layers: what `model!` computes at compile time and the layers check
//! once at construction.

/// A geometry whose widths are not the ones the type says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    #[error("the geometry takes {geometry} values per sample but the type says {declared}")]
    Input { geometry: usize, declared: usize },
    #[error("the geometry gives {geometry} values per sample but the type says {declared}")]
    Output { geometry: usize, declared: usize },
    #[error(
        "a kernel of {kernel} (dilated) does not fit an input of {input} with padding {padding}"
    )]
    Kernel {
        kernel: usize,
        input: usize,
        padding: usize,
    },
    #[error("a stride, kernel or channel count is zero")]
    Zero,
}

/// `out = (in + 2·padding − dilation·(kernel − 1) − 1) / stride + 1`, PyTorch's formula.
pub fn out_size(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    let span = dilation * (kernel - 1) + 1;
    (input + 2 * padding)
        .checked_sub(span)
        .map(|d| d / stride + 1)
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

    pub fn out_height(&self) -> usize {
        out_size(
            self.height,
            self.kernel.0,
            self.stride.0,
            self.padding.0,
            self.dilation.0,
        )
        .unwrap_or(0)
    }
    pub fn out_width(&self) -> usize {
        out_size(
            self.width,
            self.kernel.1,
            self.stride.1,
            self.padding.1,
            self.dilation.1,
        )
        .unwrap_or(0)
    }
    /// Values in one patch: `C_in·kh·kw`.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel.0 * self.kernel.1
    }

    pub fn check(&self, input: usize, output: usize) -> Result<(), GeometryError> {
        let sizes = [
            self.in_channels,
            self.out_channels,
            self.kernel.0,
            self.kernel.1,
            self.stride.0,
            self.stride.1,
            self.dilation.0,
            self.dilation.1,
        ];
        if sizes.contains(&0) {
            return Err(GeometryError::Zero);
        }
        for (size, k, p, d) in [
            (self.height, self.kernel.0, self.padding.0, self.dilation.0),
            (self.width, self.kernel.1, self.padding.1, self.dilation.1),
        ] {
            if out_size(size, k, 1, p, d).is_none() {
                return Err(GeometryError::Kernel {
                    kernel: d * (k - 1) + 1,
                    input: size,
                    padding: p,
                });
            }
        }
        let geometry_in = self.in_channels * self.height * self.width;
        if geometry_in != input {
            return Err(GeometryError::Input {
                geometry: geometry_in,
                declared: input,
            });
        }
        let geometry_out = self.out_channels * self.out_height() * self.out_width();
        if geometry_out != output {
            return Err(GeometryError::Output {
                geometry: geometry_out,
                declared: output,
            });
        }
        Ok(())
    }
}

/// A pooling window over `[C, H, W]` (no padding, floor mode, as PyTorch's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
}

impl PoolGeometry {
    /// Square window; the stride defaults to the kernel, as in PyTorch.
    pub fn new(channels: usize, height: usize, width: usize, kernel: usize) -> Self {
        PoolGeometry {
            channels,
            height,
            width,
            kernel: (kernel, kernel),
            stride: (kernel, kernel),
        }
    }
    pub fn stride(mut self, h: usize, w: usize) -> Self {
        self.stride = (h, w);
        self
    }
    pub fn out_height(&self) -> usize {
        out_size(self.height, self.kernel.0, self.stride.0, 0, 1).unwrap_or(0)
    }
    pub fn out_width(&self) -> usize {
        out_size(self.width, self.kernel.1, self.stride.1, 0, 1).unwrap_or(0)
    }

    pub fn check(&self, input: usize, output: usize) -> Result<(), GeometryError> {
        if [
            self.channels,
            self.kernel.0,
            self.kernel.1,
            self.stride.0,
            self.stride.1,
        ]
        .contains(&0)
        {
            return Err(GeometryError::Zero);
        }
        for (size, k) in [(self.height, self.kernel.0), (self.width, self.kernel.1)] {
            if k > size {
                return Err(GeometryError::Kernel {
                    kernel: k,
                    input: size,
                    padding: 0,
                });
            }
        }
        let geometry_in = self.channels * self.height * self.width;
        if geometry_in != input {
            return Err(GeometryError::Input {
                geometry: geometry_in,
                declared: input,
            });
        }
        let geometry_out = self.channels * self.out_height() * self.out_width();
        if geometry_out != output {
            return Err(GeometryError::Output {
                geometry: geometry_out,
                declared: output,
            });
        }
        Ok(())
    }
}
