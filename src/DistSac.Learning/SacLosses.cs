using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DistSac.Learning;

/// <summary>
/// The SAC formulas as plain functions over tensors (Haarnoja et al. 2018, v2; the same as CleanRL's
/// sac_continuous_action.py). No networks, optimizers or threads here: <see cref="SacLearner.Update"/> feeds them.
/// Constants arrive as long-lived Scalars: a temporary Scalar on the update path can be finalized while libtorch
/// still reads it (see <see cref="TorchScalars"/>).
/// </summary>
public static class SacLosses
{
    /// <summary>
    /// Bootstrap target y = r + gamma (1 - terminated) (min(Q1', Q2')(s', a') - alpha log pi(a'|s')). Only termination
    /// stops bootstrapping; a time-limit truncation is stored as not terminated. Call under no_grad.
    /// </summary>
    public static Tensor SoftTarget(Tensor rewards, Tensor terminated, Tensor nextMinQ, Tensor nextLogProb, Tensor alpha, Scalar gamma)
    {
        var softValue = nextMinQ.sub(nextLogProb.mul(alpha));
        var notDone = torch.ones_like(terminated).sub_(terminated);
        return torch.addcmul(rewards, notDone, softValue, gamma);
    }

    /// <summary>J_Q = E[(Q1(s,a) - y)^2 + (Q2(s,a) - y)^2] (the paper's factor 1/2 folded into the learning rate, as SB3).</summary>
    public static Tensor Critic(Tensor q1, Tensor q2, Tensor target) =>
        F.mse_loss(q1, target).add(F.mse_loss(q2, target), TorchScalars.One);

    /// <summary>J_pi = E[alpha log pi(a|s) - min(Q1, Q2)(s, a)], a ~ pi(.|s), with the critics held fixed.</summary>
    public static Tensor Actor(Tensor logProb, Tensor alpha, Tensor minQ) => (logProb * alpha - minQ).mean();

    /// <summary>J(alpha) = E[-log_alpha (log pi(a|s) + target_entropy)], log pi treated as a constant.</summary>
    public static Tensor Temperature(Tensor logAlpha, Tensor logProb, Scalar targetEntropy) =>
        -(logAlpha * logProb.detach().add(targetEntropy, TorchScalars.One)).mean();
}
