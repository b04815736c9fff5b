using System.Runtime.CompilerServices;

// Tests set exact physical states (SetState) to check the dynamics against hand-computed values.
[assembly: InternalsVisibleTo("DistSac.Envs.Tests")]
