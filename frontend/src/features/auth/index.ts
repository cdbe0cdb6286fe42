export { AuthProvider } from "./components/AuthProvider";
export { RequireSignIn } from "./components/RequireSignIn";
export { SignedInAs } from "./components/SignedInAs";
export { SignInPage } from "./components/SignInPage";
export { SIGN_IN_PATH } from "./utils/next-path";
