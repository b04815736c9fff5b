using DistSac.Learning.Replay;
using TorchSharp;
using static TorchSharp.torch;

namespace DistSac.Learning.Training;

/// <summary>
/// A reusable host tensor [B, RowSize] that batches are written into directly (no managed array per update), and its
/// column views. On CUDA the batch is copied to the device once per update; on CPU the views alias the host tensor.
/// </summary>
public sealed class BatchStaging : IDisposable
{
    private readonly Tensor _host;
    private readonly Tensor _device;

    public BatchStaging(TransitionLayout layout, int batchSize, Device device)
    {
        Layout = layout;
        BatchSize = batchSize;
        _host = zeros(batchSize, layout.RowSize, dtype: float32);
        _device = device.type == DeviceType.CPU ? _host.alias() : zeros(batchSize, layout.RowSize, dtype: float32, device: device);
        Observations = _device.narrow(1, layout.ObservationOffset, layout.ObservationSize);
        Actions = _device.narrow(1, layout.ActionOffset, layout.ActionSize);
        Rewards = _device.narrow(1, layout.RewardOffset, 1);
        NextObservations = _device.narrow(1, layout.NextObservationOffset, layout.ObservationSize);
        Terminated = _device.narrow(1, layout.TerminatedOffset, 1);
    }

    public TransitionLayout Layout { get; }
    public int BatchSize { get; }
    public Tensor Observations { get; }
    public Tensor Actions { get; }
    public Tensor Rewards { get; }
    public Tensor NextObservations { get; }
    public Tensor Terminated { get; }

    /// <summary>The host buffer to fill with BatchSize rows; call <see cref="Upload"/> afterwards.</summary>
    public Span<float> HostRows => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_host.bytes);

    public void Upload()
    {
        if (!ReferenceEquals(_host, _device) && _device.device_type != DeviceType.CPU)
        {
            using (no_grad()) _device.copy_(_host, false);
        }
    }

    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        Rewards.Dispose();
        NextObservations.Dispose();
        Terminated.Dispose();
        if (!ReferenceEquals(_host, _device)) _device.Dispose();
        _host.Dispose();
    }
}
