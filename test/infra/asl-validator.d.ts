/** asl-validator 4 ships no declarations: the one function the infra test calls. */
declare module 'asl-validator' {
  export default function validator(definition: unknown): {
    isValid: boolean;
    errors: readonly { message?: string; [key: string]: unknown }[];
  };
}
